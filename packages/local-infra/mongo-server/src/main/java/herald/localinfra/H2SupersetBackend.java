package herald.localinfra;

import java.util.List;
import java.util.NoSuchElementException;
import java.util.UUID;
import java.util.stream.Stream;

import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.Assert;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.DocumentWithPosition;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.backend.h2.H2Database;

/**
 * The H2 backend ({@code pnpm start}) whose unique indexes also answer a
 * query that holds their keys plus other fields (see
 * {@link EqualitySupersetRule} for why the stock one scans the collection
 * for those), and keep their keys in the form the stock ones compare them
 * in (see {@link H2SupersetUniqueIndex}: a map written by the stock backend
 * is converted when it opens).
 *
 * Two constructors run overridden methods before this class's own fields
 * would be set, so neither override may rely on a field of ours:
 * H2Backend's constructor opens every database already in the file (through
 * resolveDatabase → {@link #openOrCreateDatabase}), and H2Database's opens
 * every index already in the file (→ openOrCreateUniqueIndex). The first
 * reads the store through {@link #getMvStore()} (H2Backend sets it before
 * opening databases); the second receives it as an argument of
 * {@link Database}'s constructor, kept in a ThreadLocal only while
 * H2Database's constructor runs (its own store field is private).
 */
final class H2SupersetBackend extends H2Backend {

    H2SupersetBackend(String fileName) {
        super(fileName);
    }

    @Override
    protected MongoDatabase openOrCreateDatabase(String databaseName) {
        return Database.open(databaseName, getMvStore(), getCursorRegistry());
    }

    /**
     * H2Collection, with its documents held as BSON bytes (see {@link BsonBytesType}): encoded when stored,
     * decoded when read. Every method of H2Collection that touches its data map is overridden here (its
     * map is private; the one passed to it is this one, typed as the library expects and never used by
     * it). Its one-field secondary indexes also answer a query they cover without reading documents.
     */
    private static final class Collection extends H2Collection {

        private final MVMap<Object, byte[]> documents;

        @SuppressWarnings("unchecked")
        Collection(MongoDatabase database, String collectionName, CollectionOptions options,
                   MVMap<Object, byte[]> documents, MVMap<String, Object> metaMap, CursorRegistry cursorRegistry) {
            super(database, collectionName, options, (MVMap<Object, Document>) (MVMap<?, ?>) documents, metaMap,
                cursorRegistry);
            this.documents = documents;
        }

        /**
         * Under the collection's lock, as every write is: the library adds (and drops) an index
         * without it, while an insert on another connection iterates the index list
         * (ConcurrentModificationException, "Unknown error: null" to the client).
         */
        @Override
        public synchronized void addIndex(Index<Object> index) {
            super.addIndex(index);
        }

        @Override
        public synchronized void dropIndex(String indexName) {
            super.dropIndex(indexName);
        }

        /**
         * The data size (collStats' size) is kept from the bytes stored, not by the library, which
         * encodes every document inserted, updated or removed once more only to measure it.
         */
        @Override
        protected boolean tracksDataSize() {
            return false;
        }

        @Override
        protected Object addDocumentInternal(Document document) {
            Object key = getIdField() != null ? Utils.getSubdocumentValue(document, getIdField()) : UUID.randomUUID();
            byte[] encoded = BsonBytesType.encode(document);
            byte[] previous = documents.put(Missing.ofNullable(key), encoded);
            Assert.isNull(previous, () -> "Document with key '" + key + "' already existed in " + this + ": "
                + BsonBytesType.decode(previous));
            updateDataSize(encoded.length);
            return key;
        }

        @Override
        public int count() {
            return documents.size();
        }

        @Override
        public boolean isEmpty() {
            return documents.isEmpty();
        }

        @Override
        protected Document getDocument(Object position) {
            return BsonBytesType.decode(documents.get(position));
        }

        @Override
        protected void removeDocument(Object position) {
            byte[] removed = documents.remove(position);
            if (removed == null) {
                throw new NoSuchElementException("No document with key " + position);
            }
            updateDataSize(-removed.length);
        }

        @Override
        protected Stream<DocumentWithPosition<Object>> streamAllDocumentsWithPosition() {
            return documents.entrySet().stream()
                .map(entry -> new DocumentWithPosition<>(BsonBytesType.decode(entry.getValue()), entry.getKey()));
        }

        @Override
        protected QueryResult matchDocuments(Document query, Document orderBy, int numberToSkip, int limit,
                                             int batchSize, Document fieldSelector) {
            Stream<Document> documentStream;
            if (isNaturalDescending(orderBy)) {
                documentStream = documents.entrySet().stream()
                    .sorted((a, b) -> ValueComparator.desc().compare(a.getKey(), b.getKey()))
                    .map(entry -> BsonBytesType.decode(entry.getValue()));
            } else {
                documentStream = documents.values().stream().map(BsonBytesType::decode);
            }
            return matchDocumentsFromStream(documentStream, query, orderBy, numberToSkip, limit, batchSize,
                fieldSelector);
        }

        @Override
        protected void handleUpdate(Object position, Document oldDocument, Document newDocument) {
            byte[] encoded = BsonBytesType.encode(newDocument);
            byte[] previous = documents.put(Missing.ofNullable(position), encoded);
            updateDataSize(encoded.length - (previous == null ? 0 : previous.length));
        }

        /**
         * see {@link SecondaryIndex#coveringDocuments}; anything else as the library does it. What the
         * index gives has met the query already: the collection sorts, skips, limits and projects it
         * (an empty query, not the same one again).
         */
        @Override
        protected QueryResult queryDocuments(Document query, Document orderBy, int numberToSkip, int limit,
                                             int batchSize, Document fieldSelector) {
            // the library limits only by a positive limit, after skipping a positive skip
            int wanted = limit <= 0 ? Integer.MAX_VALUE
                : (int) Math.min(Integer.MAX_VALUE, (long) Math.max(numberToSkip, 0) + limit);
            for (Index<Object> index : getIndexes()) {
                if (index instanceof SecondaryIndex<Object> secondary) {
                    List<Document> covered = secondary.coveringDocuments(query, orderBy, fieldSelector, wanted,
                        document -> documentMatchesQuery(document, query));
                    if (covered != null) {
                        return matchDocumentsFromStream(covered.stream(), new Document(), orderBy, numberToSkip,
                            limit, batchSize, fieldSelector);
                    }
                }
            }
            return super.queryDocuments(query, orderBy, numberToSkip, limit, batchSize, fieldSelector);
        }
    }

    private static final class Database extends H2Database {

        /** The store of the Database being constructed on this thread (see the class comment). */
        private static final ThreadLocal<MVStore> CONSTRUCTING = new ThreadLocal<>();

        private final MVStore mvStore;

        static Database open(String databaseName, MVStore mvStore, CursorRegistry cursorRegistry) {
            CONSTRUCTING.set(mvStore);
            try {
                return new Database(databaseName, mvStore, cursorRegistry);
            } finally {
                CONSTRUCTING.remove();
            }
        }

        private Database(String databaseName, MVStore mvStore, CursorRegistry cursorRegistry) {
            super(databaseName, mvStore, cursorRegistry);
            this.mvStore = mvStore;
        }

        /**
         * Creating a collection that is not there yet, once: the library checks and creates
         * without a lock, so writes, index builds and create commands from several connections
         * could each create it (a duplicate key on system.namespaces for one of them, the
         * collection listed twice). Found collections are returned without the lock.
         */
        @Override
        protected MongoCollection<Object> resolveOrCreateCollection(String collectionName) {
            MongoCollection<Object> collection = resolveCollection(collectionName, false);
            if (collection != null) {
                return collection;
            }
            synchronized (this) {
                return super.resolveOrCreateCollection(collectionName);
            }
        }

        /** The create command, under the same lock (see {@link #resolveOrCreateCollection}). */
        @Override
        public synchronized MongoCollection<Object> createCollectionOrThrowIfExists(String collectionName,
                                                                                   CollectionOptions options) {
            return super.createCollectionOrThrowIfExists(collectionName, options);
        }

        /**
         * H2Database's, with the documents held as BSON ({@link BsonBytesType}) and ObjectId keys
         * in 13 bytes ({@link CompactObjectIdType}); same map names.
         */
        @Override
        protected MongoCollection<Object> openOrCreateCollection(String collectionName, CollectionOptions options) {
            MVStore store = mvStore != null ? mvStore : CONSTRUCTING.get();
            String fullName = getFullCollectionNamespace(collectionName);
            MVMap<Object, byte[]> documents = store.openMap("databases." + fullName,
                new MVMap.Builder<Object, byte[]>().keyType(new CompactObjectIdType()).valueType(new BsonBytesType()));
            MVMap<String, Object> metaMap = store.openMap("meta." + fullName);
            return new Collection(this, collectionName, options, documents, metaMap, cursorRegistry);
        }

        /** a one-field non-unique index answers queries here (see {@link SecondaryIndex}); others stay ignored */
        @Override
        protected Index<Object> openOrCreateSecondaryIndex(String collectionName, String indexName, List<IndexKey> keys,
                                                          boolean sparse) {
            return SecondaryIndex.forKeys(indexName, keys, sparse,
                () -> super.openOrCreateSecondaryIndex(collectionName, indexName, keys, sparse));
        }

        @Override
        protected Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys,
                                                        boolean sparse) {
            MVStore store = mvStore != null ? mvStore : CONSTRUCTING.get();
            MVMap<Object, Object> mvMap = store.openMap(mapNameForIndex(collectionName, indexName),
                new MVMap.Builder<Object, Object>().keyType(new CompactObjectIdType()).valueType(new CompactObjectIdType()));
            int converted = H2SupersetUniqueIndex.upgrade(mvMap);
            if (converted > 0) {
                System.err.println("index " + indexName + " of " + getFullCollectionNamespace(collectionName)
                    + ": " + converted + " keys converted to their stored form");
            }
            return new H2SupersetUniqueIndex(mvMap, indexName, keys, sparse);
        }

        /**
         * H2Database.mapNameForIndex (private in 1.47.0), repeated to the letter: the name an index's
         * map has in the file. A different name would open an empty map for an index of an existing
         * file (its uniqueness lost for the documents already there), and H2Database.dropIndex, which
         * uses its own copy, would not remove ours.
         */
        private String mapNameForIndex(String collectionName, String indexName) {
            return getFullCollectionNamespace(collectionName) + "._index_" + indexName;
        }
    }
}
