package herald.localinfra;

import java.util.List;
import java.util.Map.Entry;

import org.h2.mvstore.MVMap;

import de.bwaldvogel.mongo.backend.AbstractUniqueIndex;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.bson.Document;

/**
 * The H2 backend's unique index, also used for a query that holds all its
 * keys as plain equalities plus other fields (see {@link EqualitySupersetRule});
 * the library's exact-field-set rule is asked first. Without the superset
 * rule such a query scans the whole collection, reading every document from
 * the MVStore.
 *
 * Not a subclass of the library's H2UniqueIndex, whose constructor is
 * package-private: this repeats its storage (the five methods below, stored
 * exactly as H2UniqueIndex stores them: key values to
 * {@code Missing.ofNullable(position)} in an MVMap), so an index map written
 * by the stock backend (an older {@code pnpm start} data file) reads the same
 * here, and the other way round.
 */
final class H2SupersetUniqueIndex extends AbstractUniqueIndex<Object> {

    private final MVMap<KeyValue, Object> mvMap;

    H2SupersetUniqueIndex(MVMap<KeyValue, Object> mvMap, String name, List<IndexKey> keys, boolean sparse) {
        super(name, keys, sparse);
        this.mvMap = mvMap;
    }

    @Override
    public boolean canHandle(Document query) {
        return super.canHandle(query) || EqualitySupersetRule.applies(keys(), query);
    }

    @Override
    public Iterable<Object> getPositions(Document query) {
        if (super.canHandle(query)) {
            return super.getPositions(query);
        }
        return super.getPositions(EqualitySupersetRule.project(keys(), query));
    }

    // H2UniqueIndex's storage, unchanged

    @Override
    protected Object removeDocument(KeyValue keyValue) {
        return mvMap.remove(keyValue);
    }

    @Override
    protected boolean putKeyPosition(KeyValue keyValue, Object position) {
        Object oldValue = mvMap.putIfAbsent(keyValue, Missing.ofNullable(position));
        return oldValue == null;
    }

    @Override
    protected Iterable<Entry<KeyValue, Object>> getIterable() {
        return mvMap.entrySet();
    }

    @Override
    protected Object getPosition(KeyValue keyValue) {
        return mvMap.get(keyValue);
    }

    @Override
    public long getCount() {
        return mvMap.sizeAsLong();
    }

    @Override
    public boolean isEmpty() {
        return mvMap.isEmpty();
    }

    @Override
    public long getDataSize() {
        return getCount();
    }
}
