package herald.localinfra;

import java.util.List;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
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

        /**
         * Creating a collection that is not there yet, once: the library checks and creates
         * without a lock, so writes, index builds and create commands from several connections
         * could each create it (a duplicate key on system.namespaces for one of them, the
         * collection listed twice, and in memory the documents written to the collection object
         * that lost). Found collections are returned without the lock.
         */
        @Override
        protected MongoCollection<Integer> resolveOrCreateCollection(String collectionName) {
            MongoCollection<Integer> collection = resolveCollection(collectionName, false);
            if (collection != null) {
                return collection;
            }
            synchronized (this) {
                return super.resolveOrCreateCollection(collectionName);
            }
        }

        /** The create command, under the same lock (see {@link #resolveOrCreateCollection}). */
        @Override
        public synchronized MongoCollection<Integer> createCollectionOrThrowIfExists(String collectionName,
                                                                                    CollectionOptions options) {
            return super.createCollectionOrThrowIfExists(collectionName, options);
        }

        @Override
        protected MemoryCollection openOrCreateCollection(String collectionName, CollectionOptions options) {
            return new Collection(this, collectionName, options, cursorRegistry);
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

    /**
     * The library's collection with index changes under its lock, as every write is: the library
     * adds (and drops) an index without it, while an insert on another connection iterates the
     * index list (ConcurrentModificationException, "Unknown error: null" to the client).
     */
    private static final class Collection extends MemoryCollection {

        Collection(MongoDatabase database, String collectionName, CollectionOptions options,
                   CursorRegistry cursorRegistry) {
            super(database, collectionName, options, cursorRegistry);
        }

        @Override
        public synchronized void addIndex(Index<Integer> index) {
            super.addIndex(index);
        }

        @Override
        public synchronized void dropIndex(String indexName) {
            super.dropIndex(indexName);
        }
    }
}
