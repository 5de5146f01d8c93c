package herald.localinfra;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Predicate;
import java.util.function.Supplier;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.ObjectId;

/**
 * A non-unique index on one field, which mongo-java-server 1.47 accepts and
 * ignores (every query on such a field scans the collection, holding the
 * collection's lock: the notification service's outbox relay polled
 * `{ outboxDueAt: { $lte: now }, $or: [...] }` over every notification every
 * second or two, and inserts waited behind each scan).
 *
 * Kept in memory, rebuilt from the documents when the collection opens (the
 * library fills an empty index from the collection): one entry per document
 * and value, (value, _id) → position, in the library's value order. It
 * answers a query that holds its field as an equality, `$in`, or a range
 * (`$gt`, `$gte`, `$lt`, `$lte`, `$eq`) of numbers, dates or ObjectIds,
 * plus anything else: it returns the positions whose value is in range, a
 * superset of the answer, and the collection matches every one of them
 * against the whole query (as for {@link EqualitySupersetRule}), so an answer
 * cannot change, only how many documents are read for it. Null, missing,
 * `$exists`, `$ne`, regular expressions, strings in a range, embedded
 * documents and arrays as values are left to the scan. Compound indexes stay
 * the library's (ignored).
 *
 * A document whose field is missing or null has no entry: no query this
 * index answers can match it (those are the scan's), and most documents of
 * a notification store lack most indexed fields. The library asks a
 * non-sparse index for every document's position when it removes one, so
 * the index calls itself sparse to the library ({@link #isSparse}) and
 * describes itself as it was created ({@link #toIndexDescription}).
 */
final class SecondaryIndex<P> extends Index<P> {

    private static final Comparator<Object> VALUES = ValueComparator.asc();

    /** bounds of an _id range: below and above every _id */
    private static final Object LOWEST = new Object();
    private static final Object HIGHEST = new Object();

    private static final Set<String> RANGE_OPERATORS = Set.of("$gt", "$gte", "$lt", "$lte", "$eq");

    private final String field;
    private final boolean declaredSparse;
    private final NavigableMap<Entry, P> entries = new ConcurrentSkipListMap<>();

    /**
     * Whether a document ever held an array here. Then two conditions on the field may be met
     * by two different elements ({@code {f: {$gt: 5, $lt: 3}}} matches [1, 10]), so ranges are
     * not intersected: one side, or the field's own condition without its $or, bounds it.
     */
    private volatile boolean multikey;

    SecondaryIndex(String name, List<IndexKey> keys, boolean sparse) {
        super(name, keys, sparse);
        if (keys.size() != 1) {
            throw new IllegalArgumentException("a secondary index here has one field: " + keys);
        }
        this.field = keys.get(0).getKey();
        this.declaredSparse = sparse;
    }

    /** to the library: a document without an entry here (no value) is not an inconsistency when removed */
    @Override
    protected boolean isSparse() {
        return true;
    }

    /** as created: sparse only when asked for */
    @Override
    public Document toIndexDescription() {
        Document description = super.toIndexDescription();
        if (!declaredSparse) {
            description.remove("sparse");
        }
        return description;
    }

    /** this index for one field; for more, the library's (ignored) one that `library` makes */
    static <P> Index<P> forKeys(String name, List<IndexKey> keys, boolean sparse, Supplier<Index<P>> library) {
        return keys.size() == 1 ? new SecondaryIndex<>(name, keys, sparse) : library.get();
    }

    private record Entry(Object value, Object id) implements Comparable<Entry> {
        @Override
        public int compareTo(Entry other) {
            int byValue = compareValues(value, other.value);
            return byValue != 0 ? byValue : compareIds(id, other.id);
        }

        private static int compareIds(Object a, Object b) {
            if (a == b) {
                return 0;
            }
            if (a == LOWEST || b == HIGHEST) {
                return -1;
            }
            if (a == HIGHEST || b == LOWEST) {
                return 1;
            }
            return compareValues(a, b);
        }
    }

    /**
     * The library's order, with the common cases first: two values of one of the types an index
     * here mostly holds compare as ValueComparator compares them (by the same compareTo), without
     * its generic type ranking, which was a quarter of the server's CPU on inserts.
     */
    static int compareValues(Object a, Object b) {
        if (a == b) {
            return 0;
        }
        if (a.getClass() == b.getClass()) {
            if (a instanceof ObjectId objectId) {
                return objectId.compareTo((ObjectId) b);
            }
            if (a instanceof Instant instant) {
                return instant.compareTo((Instant) b);
            }
            if (a instanceof String string) {
                return string.compareTo((String) b);
            }
        }
        return VALUES.compare(a, b);
    }

    /** the document's values for the field (each element of an array); none when it is missing or null */
    private List<Entry> entriesOf(Document document) {
        Object id = Missing.ofNullable(document.get("_id"));
        Object value = Utils.getSubdocumentValueCollectionAware(document, field);
        if (Missing.isNullOrMissing(value)) {
            return List.of();
        }
        if (value instanceof ObjectId || value instanceof Instant || value instanceof String
            || value instanceof Boolean) {
            return List.of(new Entry(value, id)); // as the library normalizes them: unchanged
        }
        Set<KeyValue> keyValues = getKeyValues(document);
        List<Entry> result = new ArrayList<>(keyValues.size());
        for (KeyValue keyValue : keyValues) {
            Object element = keyValue.get(0);
            if (!Missing.isNullOrMissing(element)) {
                result.add(new Entry(element, id));
            }
        }
        return result;
    }

    @Override
    public P getPosition(Document document) {
        List<Entry> entries = entriesOf(document);
        return entries.isEmpty() ? null : this.entries.get(entries.get(0));
    }

    @Override
    public void checkAdd(Document document, MongoCollection<P> collection) {
        // not unique: nothing to refuse
    }

    @Override
    public void add(Document document, P position, MongoCollection<P> collection) {
        noteArrays(document);
        for (Entry entry : entriesOf(document)) {
            entries.put(entry, position);
        }
    }

    private void noteArrays(Document document) {
        if (!multikey && Utils.getSubdocumentValueCollectionAware(document, field) instanceof Collection) {
            multikey = true;
        }
    }

    @Override
    public P remove(Document document) {
        P position = null;
        for (Entry entry : entriesOf(document)) {
            P removed = entries.remove(entry);
            if (removed != null) {
                position = removed;
            }
        }
        return position;
    }

    @Override
    public void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<P> collection) {
        // not unique: nothing to refuse
    }

    @Override
    public void updateInPlace(Document oldDocument, Document newDocument, P position, MongoCollection<P> collection) {
        List<Entry> before = entriesOf(oldDocument);
        List<Entry> after = entriesOf(newDocument);
        if (before.equals(after)) {
            return;
        }
        noteArrays(newDocument);
        for (Entry entry : before) {
            entries.remove(entry);
        }
        for (Entry entry : after) {
            entries.put(entry, position);
        }
    }

    @Override
    public boolean canHandle(Document query) {
        return bounds(query) != null;
    }

    @Override
    public Iterable<P> getPositions(Document query) {
        // a set: ranges may overlap, and a document with an array has an entry per element
        Set<P> positions = new LinkedHashSet<>();
        for (Object[] range : bounds(query)) {
            positions.addAll(slice(range).values());
        }
        return positions;
    }

    /**
     * The answer from the index alone, each entry that meets the query (`matches`, the
     * collection's own matcher, on {@code {_id, <field>: value}}) in this index's order, when
     * nothing else of a document can matter: the query, the sort and the projection name no
     * field but this one and {@code _id}, the sort is given, the projection keeps only those two,
     * no document ever held an array here, and every value met is a date, ObjectId, string or
     * boolean (the index keeps numbers normalized: 1 and 1.0 alike, and the answer must show the
     * stored one). When the sort is this field's ascending order (then {@code _id}'s), which is
     * the index's, the walk stops at the `wanted` (skip + limit) first matches; else it takes
     * every match and the collection sorts them. The collection still sorts, skips, limits and
     * projects what it gets, as it would the documents; null when the index cannot cover it.
     *
     * The outbox relay's poll reads the ids and due times of the next 500 notifications every
     * pass: read from the documents, that was hundreds of BSON documents decoded under the
     * collection's lock while inserts waited; taken from the index without a limit, it still
     * built and matched every entry due by now (a pass's due ones again at each of its reads).
     */
    List<Document> coveringDocuments(Document query, Document orderBy, Document projection, int wanted,
                                     Predicate<Document> matches) {
        if (multikey || field.contains(".") || orderBy == null || orderBy.isEmpty() || !namesOnlyOurs(query)
            || !onlyOurs(orderBy.keySet()) || !keepsOnlyOurs(projection)) {
            return null;
        }
        List<Object[]> ranges = bounds(query);
        if (ranges == null) {
            return null;
        }
        boolean inIndexOrder = ascendingHere(orderBy);
        List<Document> found = new ArrayList<>();
        for (Object[] range : disjoint(ranges)) {
            for (Entry entry : slice(range).keySet()) {
                Object value = entry.value();
                if (!(value instanceof java.time.Instant || value instanceof ObjectId || value instanceof String
                    || value instanceof Boolean)) {
                    return null;
                }
                Document document = new Document("_id", entry.id());
                document.put(field, value);
                if (matches.test(document)) {
                    found.add(document);
                    if (inIndexOrder && found.size() >= wanted) {
                        return found;
                    }
                }
            }
        }
        return found;
    }

    /** the sort {@code {<field>: 1}} or {@code {<field>: 1, _id: 1}}: the order the entries are in */
    private boolean ascendingHere(Document orderBy) {
        int position = 0;
        for (Map.Entry<String, Object> key : orderBy.entrySet()) {
            String expected = position == 0 ? field : "_id";
            if (position > 1 || !key.getKey().equals(expected) || !(key.getValue() instanceof Number)
                || ((Number) key.getValue()).doubleValue() != 1) {
                return false;
            }
            position++;
        }
        return true;
    }

    /**
     * The ranges merged where they overlap or touch, in ascending order: walked one after the
     * other, they visit each entry in bounds once, in the index's order (the relay's poll bounds
     * the field by [d, now] and by [d, d]: one range).
     */
    private static List<Object[]> disjoint(List<Object[]> ranges) {
        List<Object[]> sorted = new ArrayList<>(ranges);
        sorted.sort((a, b) -> a[0] == null ? (b[0] == null ? 0 : -1) : b[0] == null ? 1 : VALUES.compare(a[0], b[0]));
        List<Object[]> merged = new ArrayList<>();
        for (Object[] range : sorted) {
            Object[] last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (last != null && (last[1] == null || range[0] == null || VALUES.compare(range[0], last[1]) <= 0)) {
                last[1] = last[1] == null || range[1] == null ? null
                    : VALUES.compare(range[1], last[1]) > 0 ? range[1] : last[1];
            } else {
                merged.add(new Object[] {range[0], range[1]});
            }
        }
        return merged;
    }

    /** the query's conditions are on this field and _id only, also inside $or and $and */
    private boolean namesOnlyOurs(Document query) {
        for (Map.Entry<String, Object> condition : query.entrySet()) {
            String key = condition.getKey();
            if (key.equals("$or") || key.equals("$and")) {
                if (!(condition.getValue() instanceof Collection)) {
                    return false;
                }
                for (Object branch : (Collection<?>) condition.getValue()) {
                    if (!(branch instanceof Document) || !namesOnlyOurs((Document) branch)) {
                        return false;
                    }
                }
            } else if (!key.equals(field) && !key.equals("_id")) {
                return false;
            }
        }
        return true;
    }

    private boolean onlyOurs(Set<String> keys) {
        for (String key : keys) {
            if (!key.equals(field) && !key.equals("_id")) {
                return false;
            }
        }
        return true;
    }

    /** an inclusion projection of this field and/or _id (with _id possibly left out): {_id: 0} alone excludes */
    private boolean keepsOnlyOurs(Document projection) {
        if (projection == null || projection.isEmpty() || !onlyOurs(projection.keySet())) {
            return false;
        }
        boolean includes = false;
        for (Map.Entry<String, Object> kept : projection.entrySet()) {
            Object value = kept.getValue();
            boolean truthy = Boolean.TRUE.equals(value) || value instanceof Number && ((Number) value).doubleValue() != 0;
            boolean falsy = Boolean.FALSE.equals(value) || value instanceof Number && ((Number) value).doubleValue() == 0;
            if (!truthy && !(falsy && kept.getKey().equals("_id"))) {
                return false;
            }
            includes |= truthy;
        }
        return includes;
    }

    private NavigableMap<Entry, P> slice(Object[] range) {
        Entry from = range[0] == null ? null : new Entry(range[0], LOWEST);
        Entry to = range[1] == null ? null : new Entry(range[1], HIGHEST);
        return from == null
            ? (to == null ? entries : entries.headMap(to, true))
            : (to == null ? entries.tailMap(from, true) : entries.subMap(from, true, to, true));
    }

    /**
     * Value ranges ([low, high], inclusive, null for an open side, in the library's order) that
     * hold a value of every document the query can match; null when the query does not bound
     * this field (then the collection is scanned). From the field's own condition, intersected
     * with the union of the branches of a top-level $or when every branch bounds the field
     * (the outbox relay's `{ dueAt: { $lte: now }, $or: [{ dueAt: { $gt: d } }, { dueAt: d, _id: ... }] }`).
     */
    private List<Object[]> bounds(Document query) {
        List<Object[]> result = query.containsKey(field) ? ranges(query.get(field), multikey) : null;
        if (query.get("$or") instanceof Collection) {
            List<Object[]> union = new ArrayList<>();
            for (Object branch : (Collection<?>) query.get("$or")) {
                List<Object[]> ranges = branch instanceof Document ? bounds((Document) branch) : null;
                if (ranges == null) {
                    union = null;
                    break;
                }
                union.addAll(ranges);
            }
            if (union != null) {
                result = result == null ? union : multikey ? result : intersect(result, union);
            }
        }
        return result;
    }

    private static List<Object[]> intersect(List<Object[]> a, List<Object[]> b) {
        List<Object[]> result = new ArrayList<>();
        for (Object[] x : a) {
            for (Object[] y : b) {
                Object low = x[0] == null ? y[0] : y[0] == null ? x[0] : VALUES.compare(x[0], y[0]) >= 0 ? x[0] : y[0];
                Object high = x[1] == null ? y[1] : y[1] == null ? x[1] : VALUES.compare(x[1], y[1]) <= 0 ? x[1] : y[1];
                if (low == null || high == null || VALUES.compare(low, high) <= 0) {
                    result.add(new Object[] {low, high});
                }
            }
        }
        return result;
    }

    /** the ranges a condition on the field can match, or null when it cannot be bounded here */
    private static List<Object[]> ranges(Object condition, boolean multikey) {
        if (isEqualityValue(condition)) {
            Object value = normalized(condition);
            return List.<Object[]>of(new Object[] {value, value});
        }
        if (!(condition instanceof Document) || ((Document) condition).isEmpty()) {
            return null;
        }
        Document operators = (Document) condition;
        if (operators.size() == 1 && operators.get("$in") instanceof Collection) {
            List<Object[]> ranges = new ArrayList<>();
            for (Object value : (Collection<?>) operators.get("$in")) {
                if (!isEqualityValue(value)) {
                    return null;
                }
                Object normalized = normalized(value);
                ranges.add(new Object[] {normalized, normalized});
            }
            return ranges;
        }
        Object low = null;
        Object high = null;
        for (Map.Entry<String, Object> operator : operators.entrySet()) {
            if (!RANGE_OPERATORS.contains(operator.getKey()) || !isRangeBound(operator.getValue())) {
                return null;
            }
            Object bound = normalized(operator.getValue());
            String name = operator.getKey();
            if (name.equals("$gt") || name.equals("$gte") || name.equals("$eq")) {
                low = low == null || VALUES.compare(bound, low) > 0 ? bound : low;
            }
            if (name.equals("$lt") || name.equals("$lte") || name.equals("$eq")) {
                high = high == null || VALUES.compare(bound, high) < 0 ? bound : high;
            }
        }
        if (multikey && low != null && high != null) {
            return List.<Object[]>of(new Object[] {low, null});
        }
        if (low != null && high != null && VALUES.compare(low, high) > 0) {
            return List.of(); // nothing can be in both (a value is compared within its own type)
        }
        return List.<Object[]>of(new Object[] {low, high});
    }

    /** a value as the index keeps it (KeyValue's normalization: 1 and 1.0 are one key) */
    private static Object normalized(Object value) {
        return new KeyValue(value).normalized().get(0);
    }

    /** a value an equality can be looked up by: a number, string, date, ObjectId or boolean */
    private static boolean isEqualityValue(Object value) {
        return value instanceof String || value instanceof Boolean || isRangeBound(value);
    }

    /** a bound whose order here is MongoDB's: numbers, dates, ObjectIds (not strings: collation and byte order) */
    private static boolean isRangeBound(Object value) {
        return value instanceof Number && !(value instanceof java.math.BigDecimal)
            || value instanceof java.time.Instant
            || value instanceof ObjectId;
    }

    @Override
    public long getCount() {
        return entries.size();
    }

    @Override
    public long getDataSize() {
        return getCount();
    }

    @Override
    public void drop() {
        entries.clear();
    }
}
