package herald.localinfra;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;
import org.h2.mvstore.type.ObjectDataType;

import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.wire.bson.BsonDecoder;
import de.bwaldvogel.mongo.wire.bson.BsonEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * How the H2 backend's collections hold their documents: as BSON bytes, in
 * the file and in memory (see H2SupersetBackend.Collection, which encodes a
 * document when it is stored and decodes it when it is read).
 *
 * In the file each value is one tag byte then the document's BSON
 * (self-delimited by its length prefix), instead of the library's Java
 * serialization (H2's ObjectDataType): Java serialization of a document (a
 * class descriptor and a LinkedHashMap per embedded document) was a third of
 * the server's CPU on batched inserts, and a commit taken by an inserting
 * thread holds its collection's lock meanwhile.
 *
 * In memory a page holds one byte array per document, not the document's
 * object tree. The tree (a LinkedHashMap, its entries, a String per field
 * name, an Instant per date, per embedded document) was what the store's
 * cache and its unsaved pages kept alive: every young collection of the
 * server copied each document inserted since the one before, thirty-odd
 * objects each, and paused the server 25–60 ms under load. A byte array is
 * one object to copy, and its exact size is what the cache counts.
 *
 * A value written by the library starts with one of ObjectDataType's tags
 * (never {@link #TAG}) and is read by it, then kept as BSON, so a data file of
 * an earlier {@code pnpm start} opens unchanged; its pages take the new form as
 * they are rewritten. An earlier launcher cannot read a page written here.
 */
final class BsonBytesType extends BasicDataType<byte[]> {

    /** no ObjectDataType tag (types 0–19, tags 32–119) */
    static final byte TAG = (byte) 0xB5;

    private static final ObjectDataType LEGACY = new ObjectDataType();

    /** a byte array's header */
    private static final int ARRAY_OVERHEAD = 16;

    static byte[] encode(Document document) {
        ByteBuf bson = Unpooled.buffer(512); // BsonEncoder writes little-endian itself
        try {
            BsonEncoder.encodeDocument(document, bson);
            byte[] bytes = new byte[bson.readableBytes()];
            bson.readBytes(bytes);
            return bytes;
        } finally {
            bson.release();
        }
    }

    static Document decode(byte[] bson) {
        return bson == null ? null : BsonDecoder.decodeBson(Unpooled.wrappedBuffer(bson));
    }

    @Override
    public int getMemory(byte[] bson) {
        return bson.length + ARRAY_OVERHEAD;
    }

    @Override
    public void write(WriteBuffer buffer, byte[] bson) {
        buffer.put(TAG);
        buffer.put(bson);
    }

    @Override
    public byte[] read(ByteBuffer buffer) {
        if (buffer.get(buffer.position()) != TAG) {
            return encode((Document) LEGACY.read(buffer));
        }
        buffer.get(); // the tag
        int size = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN).getInt(buffer.position());
        byte[] bson = new byte[size];
        buffer.get(bson);
        return bson;
    }

    /** Values are not ordered; MVMap asks only whether two are equal (replace, remove with a value). */
    @Override
    public int compare(byte[] a, byte[] b) {
        return Arrays.equals(a, b) ? 0 : 1;
    }

    @Override
    public byte[][] createStorage(int size) {
        return new byte[size][];
    }
}
