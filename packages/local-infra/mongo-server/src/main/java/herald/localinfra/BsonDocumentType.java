package herald.localinfra;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;
import org.h2.mvstore.type.ObjectDataType;

import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.wire.bson.BsonDecoder;
import de.bwaldvogel.mongo.wire.bson.BsonEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * How the H2 backend's collections store their documents: as BSON, the form
 * they arrived in over the wire, instead of the library's Java serialization
 * (H2's ObjectDataType). Every commit serializes the pages it writes; Java
 * serialization of a document (a class descriptor and a LinkedHashMap per
 * embedded document) was a third of the server's CPU on batched inserts once
 * the index lookups stopped serializing, and a commit taken by an inserting
 * thread holds its collection's lock meanwhile.
 *
 * Each value is one tag byte then the document's BSON (self-delimited by its
 * length prefix). A value written by the library starts with one of
 * ObjectDataType's tags (never {@link #TAG}) and is read by it, so a data file
 * of an earlier {@code pnpm start} opens unchanged; its pages take the new form
 * as they are rewritten. An earlier launcher cannot read a page written here.
 */
final class BsonDocumentType extends BasicDataType<Document> {

    /** no ObjectDataType tag (types 0–19, tags 32–119) */
    static final byte TAG = (byte) 0xB5;

    private static final ObjectDataType LEGACY = new ObjectDataType();

    /**
     * The memory a document is taken to hold, for H2's cache and its count of
     * unsaved changes: a running average of twice the BSON size, as ObjectDataType
     * estimates serialized objects (a value's getMemory must not change while it
     * is in a page, so it cannot be measured per value without encoding it).
     */
    private volatile int averageMemory = 1024;

    @Override
    public int getMemory(Document document) {
        return averageMemory;
    }

    @Override
    public void write(WriteBuffer buffer, Document document) {
        ByteBuf bson = Unpooled.buffer(256); // BsonEncoder writes little-endian itself
        try {
            BsonEncoder.encodeDocument(document, bson);
            int size = bson.readableBytes();
            averageMemory = (int) ((2L * size + 15L * averageMemory) / 16);
            buffer.put(TAG);
            buffer.put(bson.nioBuffer());
        } finally {
            bson.release();
        }
    }

    @Override
    public Document read(ByteBuffer buffer) {
        if (buffer.get(buffer.position()) != TAG) {
            return (Document) LEGACY.read(buffer);
        }
        buffer.get(); // the tag
        int start = buffer.position();
        int size = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN).getInt(start);
        ByteBuf bson = Unpooled.wrappedBuffer(buffer.duplicate().position(start).limit(start + size).slice());
        Document document = BsonDecoder.decodeBson(bson);
        buffer.position(start + size);
        return document;
    }

    /** Values are not ordered; MVMap asks only whether two are equal (replace, remove with a value). */
    @Override
    public int compare(Document a, Document b) {
        return a.equals(b) ? 0 : 1;
    }

    @Override
    public Document[] createStorage(int size) {
        return new Document[size];
    }
}
