package herald.localinfra;

import java.nio.ByteBuffer;

import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;
import org.h2.mvstore.type.ObjectDataType;

import de.bwaldvogel.mongo.bson.ObjectId;

/**
 * The H2 backend's type for what its maps hold besides documents: a
 * collection's keys (its documents' _id) and its indexes' keys and positions.
 * H2's ObjectDataType, with one change: an ObjectId (the usual _id) is
 * written as a tag byte and its 12 bytes instead of by Java serialization
 * (a class descriptor and a stream per value, at every page write).
 *
 * Ordering is ObjectDataType's (ObjectId.compareTo between ObjectIds, the
 * same between every other pair), so a map the library wrote keeps its order
 * and is read as it is; its ObjectIds take the short form as their pages are
 * rewritten. {@link #TAG} is no ObjectDataType tag (types 0–19, tags 32–119).
 * An earlier launcher cannot read a page written here.
 */
final class CompactObjectIdType extends BasicDataType<Object> {

    static final byte TAG = (byte) 0xB6;

    private static final int OBJECT_ID_LENGTH = 12;

    /** what an ObjectId holds in memory: the object and its 12-byte array */
    private static final int OBJECT_ID_MEMORY = 48;

    private final ObjectDataType legacy = new ObjectDataType();

    @Override
    public int compare(Object a, Object b) {
        return legacy.compare(a, b);
    }

    @Override
    public int getMemory(Object value) {
        return value instanceof ObjectId ? OBJECT_ID_MEMORY : legacy.getMemory(value);
    }

    @Override
    public void write(WriteBuffer buffer, Object value) {
        if (value instanceof ObjectId) {
            buffer.put(TAG).put(((ObjectId) value).toByteArray());
        } else {
            legacy.write(buffer, value);
        }
    }

    @Override
    public Object read(ByteBuffer buffer) {
        if (buffer.get(buffer.position()) != TAG) {
            return legacy.read(buffer);
        }
        buffer.get(); // the tag
        byte[] bytes = new byte[OBJECT_ID_LENGTH];
        buffer.get(bytes);
        return new ObjectId(bytes);
    }

    @Override
    public Object[] createStorage(int size) {
        return new Object[size];
    }
}
