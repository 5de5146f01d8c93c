package herald.localinfra;

import java.util.List;

import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;

/**
 * The in-memory backend (tests, benchmarks) whose unique indexes also answer
 * a query that holds their keys plus other fields: see
 * {@link EqualitySupersetRule} for why the stock one scans the collection
 * for those.
 */
final class MemorySupersetBackend extends MemoryBackend {

    @Override
    public MemoryDatabase openOrCreateDatabase(String databaseName) {
        return new Database(databaseName, getCursorRegistry());
    }

    private static final class Database extends MemoryDatabase {

        Database(String databaseName, CursorRegistry cursorRegistry) {
            super(databaseName, cursorRegistry);
        }

        /** a one-field non-unique index answers queries here (see {@link SecondaryIndex}); others stay ignored */
        @Override
        protected Index<Integer> openOrCreateSecondaryIndex(String collectionName, String indexName, List<IndexKey> keys,
                                                          boolean sparse) {
            return SecondaryIndex.forKeys(indexName, keys, sparse,
                () -> super.openOrCreateSecondaryIndex(collectionName, indexName, keys, sparse));
        }

        @Override
        protected Index<Integer> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys,
                                                         boolean sparse) {
            return new MemorySupersetUniqueIndex(indexName, keys, sparse);
        }
    }
}
