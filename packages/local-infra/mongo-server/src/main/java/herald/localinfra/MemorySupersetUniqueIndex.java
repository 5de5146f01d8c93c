package herald.localinfra;

import java.util.List;

import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.memory.index.MemoryUniqueIndex;
import de.bwaldvogel.mongo.bson.Document;

/**
 * The in-memory backend's unique index, also used for a query that holds
 * all its keys as plain equalities plus other fields (see
 * {@link EqualitySupersetRule}). The library's exact-field-set rule is asked
 * first and keeps its behaviour ($in, regular expressions, null on a sparse
 * index); without the superset rule such a query scans the whole collection.
 */
final class MemorySupersetUniqueIndex extends MemoryUniqueIndex {

    MemorySupersetUniqueIndex(String name, List<IndexKey> keys, boolean sparse) {
        super(name, keys, sparse);
    }

    @Override
    public boolean canHandle(Document query) {
        return super.canHandle(query) || EqualitySupersetRule.applies(keys(), query);
    }

    @Override
    public Iterable<Integer> getPositions(Document query) {
        if (super.canHandle(query)) {
            return super.getPositions(query);
        }
        return super.getPositions(EqualitySupersetRule.project(keys(), query));
    }
}
