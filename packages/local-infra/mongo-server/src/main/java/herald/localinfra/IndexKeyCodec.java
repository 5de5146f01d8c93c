package herald.localinfra;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.h2.mvstore.type.ObjectDataType;

import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.bson.ObjectId;

/**
 * How {@link H2SupersetUniqueIndex} stores a key: a few bytes per value, the
 * same bytes for equal keys and different bytes for different ones, which is
 * all a unique index needs (its map orders byte arrays, and range queries on
 * it filter every entry).
 *
 * A version byte, the number of values, then per value a tag and its bytes:
 * null; a double as its canonical bits (what Double.equals compares; the
 * index normalizes numbers to doubles, -0.0 to 0.0); a long (those a double
 * cannot hold); a string as its UTF-16 units (lossless, unpaired surrogates
 * included); a boolean; an ObjectId's 12 bytes; an Instant's seconds and
 * nanoseconds. Any other value (an embedded document, an array, a UUID,
 * binary data…) is its Java serialization, as the library compared it, so
 * equal values still meet. Java serialization of a whole key (the previous
 * form) allocated a stream and its buffers for every lookup and made keys of
 * some 150 bytes that share their first hundred.
 */
final class IndexKeyCodec {

    /** the first byte of every key in this form; Java serialization's start with 0xAC */
    static final byte VERSION = 1;

    private static final byte NULL = 0;
    private static final byte DOUBLE = 1;
    private static final byte LONG = 2;
    private static final byte STRING = 3;
    private static final byte FALSE = 4;
    private static final byte TRUE = 5;
    private static final byte OBJECT_ID = 6;
    private static final byte INSTANT = 7;
    private static final byte SERIALIZED = 8;

    private IndexKeyCodec() {
    }

    /** whether `stored` is a key in an earlier form (the library's KeyValue, or its Java serialization) */
    static boolean isEarlierForm(Object stored) {
        return stored instanceof KeyValue
            || stored instanceof byte[] bytes && bytes.length > 1 && bytes[0] == (byte) 0xAC && bytes[1] == (byte) 0xED;
    }

    /** the KeyValue an earlier form holds */
    static KeyValue fromEarlierForm(Object stored) {
        return stored instanceof KeyValue keyValue ? keyValue : (KeyValue) ObjectDataType.deserialize((byte[]) stored);
    }

    static byte[] encode(KeyValue key) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(32);
        DataOutputStream out = new DataOutputStream(bytes);
        try {
            out.writeByte(VERSION);
            out.writeByte(key.size());
            for (Object value : key) {
                write(out, value);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return bytes.toByteArray();
    }

    private static void write(DataOutputStream out, Object value) throws IOException {
        if (value == null) {
            out.writeByte(NULL);
        } else if (value instanceof Double number) {
            out.writeByte(DOUBLE);
            out.writeLong(Double.doubleToLongBits(number));
        } else if (value instanceof Long number) {
            out.writeByte(LONG);
            out.writeLong(number);
        } else if (value instanceof String text) {
            out.writeByte(STRING);
            out.writeInt(text.length());
            out.writeChars(text);
        } else if (value instanceof Boolean flag) {
            out.writeByte(flag ? TRUE : FALSE);
        } else if (value instanceof ObjectId id) {
            out.writeByte(OBJECT_ID);
            out.write(id.toByteArray());
        } else if (value instanceof Instant instant) {
            out.writeByte(INSTANT);
            out.writeLong(instant.getEpochSecond());
            out.writeInt(instant.getNano());
        } else {
            byte[] serialized = ObjectDataType.serialize(value);
            out.writeByte(SERIALIZED);
            out.writeInt(serialized.length);
            out.write(serialized);
        }
    }

    static KeyValue decode(byte[] stored) {
        DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(stored));
        try {
            if (in.readByte() != VERSION) {
                throw new IllegalArgumentException("not an index key of this form");
            }
            int size = in.readUnsignedByte();
            List<Object> values = new ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                values.add(read(in));
            }
            return new KeyValue(values);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Object read(DataInputStream in) throws IOException {
        byte tag = in.readByte();
        switch (tag) {
            case NULL:
                return null;
            case DOUBLE:
                return Double.longBitsToDouble(in.readLong());
            case LONG:
                return in.readLong();
            case STRING: {
                char[] chars = new char[in.readInt()];
                for (int i = 0; i < chars.length; i++) {
                    chars[i] = in.readChar();
                }
                return new String(chars);
            }
            case FALSE:
                return Boolean.FALSE;
            case TRUE:
                return Boolean.TRUE;
            case OBJECT_ID: {
                byte[] id = new byte[12];
                in.readFully(id);
                return new ObjectId(id);
            }
            case INSTANT:
                return Instant.ofEpochSecond(in.readLong(), in.readInt());
            case SERIALIZED: {
                byte[] serialized = new byte[in.readInt()];
                in.readFully(serialized);
                return ObjectDataType.deserialize(serialized);
            }
            default:
                throw new IllegalArgumentException("unknown value tag " + tag + " in an index key");
        }
    }
}
