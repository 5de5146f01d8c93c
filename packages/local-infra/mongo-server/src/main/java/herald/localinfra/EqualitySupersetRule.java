package herald.localinfra;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.bson.BsonRegularExpression;
import de.bwaldvogel.mongo.bson.Document;

/**
 * When a unique index may answer a query whose fields are more than its own.
 *
 * mongo-java-server 1.47 consults an index only for a query whose top-level
 * fields are exactly the index's keys ({@code AbstractUniqueIndex.canHandle}:
 * {@code if (!query.keySet().equals(keySet())) return false;}). Any other
 * query, e.g. the compare-and-set
 * {@code updateOne({ _id, 'deliveries.email.status': 'queued', attempt: 3 }, ...)},
 * falls through to a scan that matches every document of the collection, so
 * a run that issues one such write per document is quadratic in the
 * collection's size. Measured by hand on the in-memory server (2026-12-05),
 * that updateOne took 9.3 ms a call at 20,000 documents and 30.8 ms at
 * 100,000 without this rule, 1.1 and 0.6 ms with it (an _id lookup).
 *
 * Using the index for a superset is safe because the collection does not
 * trust the index's answer: {@code AbstractMongoCollection.queryDocuments}
 * takes the index's candidate positions and matches each candidate document
 * against the FULL query ({@code matchDocuments(query, positions, ...)}). The
 * index only has to never miss a document that matches; the extra fields
 * (operators, {@code $or}, anything) are filtered as before. It cannot miss
 * one when every index key is queried with a plain equality value: a
 * document matches {@code key: v} only if its value (or, for an array, one
 * of its elements) equals v, and the index holds exactly those values,
 * normalized the same way the index's own lookup normalizes the query.
 *
 * Not plain, so left to the library's rule (and a scan): null and missing
 * (null also matches a document without the field, which a sparse index
 * does not hold), an embedded document or operator expression ({@code $in},
 * {@code $gt}, {@code $exists}, ...), an array (the library reads an array
 * as {@code $in}, MongoDB as array equality) and a regular expression.
 */
final class EqualitySupersetRule {

    private EqualitySupersetRule() {
    }

    /** The query holds every index key, each with a plain equality value (see the class comment). */
    static boolean applies(List<String> indexKeys, Document query) {
        if (!query.keySet().containsAll(indexKeys)) {
            return false;
        }
        for (String key : indexKeys) {
            if (!isPlainEquality(query.get(key))) {
                return false;
            }
        }
        return true;
    }

    static boolean isPlainEquality(Object value) {
        return value != null
            && !(value instanceof Missing)
            && !(value instanceof Map) // Document: an operator expression or an embedded document
            && !(value instanceof Collection)
            && !(value instanceof Pattern)
            && !BsonRegularExpression.isRegularExpression(value);
    }

    /** The query reduced to the index's keys: what the library's lookup expects. */
    static Document project(List<String> indexKeys, Document query) {
        Document projected = new Document();
        for (String key : indexKeys) {
            projected.put(key, query.get(key));
        }
        return projected;
    }
}
