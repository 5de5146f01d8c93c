package herald.localinfra;

import java.time.Instant;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.List;
import java.util.Map.Entry;
import java.util.Set;

import org.h2.mvstore.MVMap;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.AbstractUniqueIndex;
import de.bwaldvogel.mongo.backend.Assert;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.bson.ObjectId;
import de.bwaldvogel.mongo.exception.DuplicateKeyError;
import de.bwaldvogel.mongo.bson.Document;

/**
 * The H2 backend's unique index, also used for a query that holds all its
 * keys as plain equalities plus other fields (see {@link EqualitySupersetRule});
 * the library's exact-field-set rule is asked first. Without the superset
 * rule such a query scans the whole collection, reading every document from
 * the MVStore.
 *
 * Not a subclass of the library's H2UniqueIndex, whose constructor is
 * package-private. Its storage is the library's with one change: a key is
 * stored as bytes ({@link IndexKeyCodec}) instead of as the KeyValue. The
 * library's map (H2's ObjectDataType) orders KeyValues, which are not
 * Comparable, by Java-serializing both sides of every comparison: some
 * twenty serializations per lookup, three quarters of the server's CPU on
 * batched inserts. The codec gives equal keys equal bytes and different keys
 * different bytes, so the same keys are equal and unique here; each operation
 * encodes its key once and the tree compares short byte arrays.
 * {@link #upgrade} converts a map written in an earlier form (the library's,
 * i.e. an older {@code pnpm start} data file) when it opens.
 */
final class H2SupersetUniqueIndex extends AbstractUniqueIndex<Object> {

    private final MVMap<Object, Object> mvMap;
    /** the field of a one-field index (_id, an email, a dedupe key), else null */
    private final String field;

    H2SupersetUniqueIndex(MVMap<Object, Object> mvMap, String name, List<IndexKey> keys, boolean sparse) {
        super(name, keys, sparse);
        this.mvMap = mvMap;
        this.field = keys.size() == 1 ? keys.get(0).getKey() : null;
    }

    /**
     * The document's one key when the index has one field and the document a plain value there
     * (an ObjectId, string, date or boolean: what the library's getKeyValues gives, normalized or
     * not, as it leaves those values unchanged); null for anything else, which the library's
     * generic path handles. That path (streams, a map per document) ran three times per insert.
     */
    private KeyValue plainKey(Document document) {
        if (field == null) {
            return null;
        }
        Object value = Utils.getSubdocumentValueCollectionAware(document, field);
        return value instanceof ObjectId || value instanceof String || value instanceof Instant
            || value instanceof Boolean ? new KeyValue(value) : null;
    }

    @Override
    public synchronized void checkAdd(Document document, MongoCollection<Object> collection) {
        KeyValue key = isSparse() ? null : plainKey(document);
        if (key == null) {
            super.checkAdd(document, collection);
        } else if (containsKey(key)) {
            throw new DuplicateKeyError(this, collection, getKeys(), key);
        }
    }

    /**
     * Re-keys the entries a map still holds in an earlier form (the library's KeyValues, or
     * their Java serialization) by the codec's bytes; returns how many. ObjectDataType orders
     * byte arrays before serialized objects and compares bytes unsigned (ours start with 1,
     * Java serialization's with 0xAC), so the old entries are the last ones, and each is put under its
     * new key before its old key is removed: a store committed half-way (H2 commits in the
     * background) still has every key once or twice, and the next open finishes the job.
     */
    static int upgrade(MVMap<Object, Object> mvMap) {
        int converted = 0;
        for (Object last = mvMap.lastKey(); IndexKeyCodec.isEarlierForm(last); last = mvMap.lastKey()) {
            mvMap.putIfAbsent(IndexKeyCodec.encode(IndexKeyCodec.fromEarlierForm(last)), mvMap.get(last));
            mvMap.remove(last);
            converted++;
        }
        return converted;
    }

    private static byte[] stored(KeyValue keyValue) {
        return IndexKeyCodec.encode(keyValue);
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

    /**
     * The library's add, without the check it repeats first: the collection has just run
     * {@link #checkAdd} for this document on every index, under the collection's lock, before
     * storing it. A key that is there after all still fails, as in the library (an assertion).
     * A sparse index keeps the library's (its check returns at once for a document without keys).
     */
    @Override
    public synchronized void add(Document document, Object position, MongoCollection<Object> collection) {
        if (isSparse()) {
            super.add(document, position, collection);
            return;
        }
        KeyValue key = plainKey(document);
        for (KeyValue keyValue : key != null ? Set.of(key) : getKeyValues(document)) {
            boolean added = putKeyPosition(keyValue, position);
            Assert.isTrue(added, () -> "Key " + keyValue + " already exists. Concurrency issue?");
        }
    }

    // H2UniqueIndex's storage, keyed by the serialized KeyValue

    @Override
    protected Object removeDocument(KeyValue keyValue) {
        return mvMap.remove(stored(keyValue));
    }

    @Override
    protected boolean putKeyPosition(KeyValue keyValue, Object position) {
        Object oldValue = mvMap.putIfAbsent(stored(keyValue), Missing.ofNullable(position));
        return oldValue == null;
    }

    @Override
    protected Iterable<Entry<KeyValue, Object>> getIterable() {
        return () -> mvMap.entrySet().stream()
            .map(entry -> (Entry<KeyValue, Object>) new SimpleImmutableEntry<>(
                IndexKeyCodec.decode((byte[]) entry.getKey()), entry.getValue()))
            .iterator();
    }

    @Override
    protected Object getPosition(KeyValue keyValue) {
        return mvMap.get(stored(keyValue));
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
