package io.github.gram4j.index;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * The NumPy {@code .npy} layout (version 1.0 and 2.0 headers) of the plain little-endian,
 * C-order arrays that the index stores and reads: {@code <f4} (FLOAT), {@code <f8} (DOUBLE) and
 * {@code <i8} (LONG). Headers written here are padded so that the data starts at a multiple of
 * 64 bytes, which keeps memory-mapped rows aligned; {@code numpy.load(path, mmap_mode="r")} reads
 * every file written here.
 */
public final class NpyFormat {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private NpyFormat() {
    }

    /**
     * The header of a {@code .npy} file.
     *
     * @param dataType the element type: FLOAT, DOUBLE or LONG
     * @param shape the array's shape (C order)
     * @param dataOffset the byte offset of the first element
     */
    public record Header(DataType dataType, long[] shape, long dataOffset) {

        /** {@return the number of elements, the product of the shape (1 for a scalar)} */
        public long elements() {
            long n = 1;
            for (long s : shape) {
                n = Math.multiplyExact(n, s);
            }
            return n;
        }

        /** {@return {@code dataOffset + elements · width}: the exact size in bytes of a complete file} */
        public long fileBytes() {
            return dataOffset + Math.multiplyExact(elements(), (long) dataType.width());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Header h && h.dataType == dataType && Arrays.equals(h.shape, shape)
                    && h.dataOffset == dataOffset;
        }

        @Override
        public int hashCode() {
            return 31 * (31 * dataType.hashCode() + Arrays.hashCode(shape)) + Long.hashCode(dataOffset);
        }

        @Override
        public String toString() {
            return descr(dataType) + " " + Arrays.toString(shape);
        }
    }

    /** The {@code .npy} descr of FLOAT, DOUBLE or LONG. */
    static String descr(DataType type) {
        switch (type) {
            case FLOAT:
                return "<f4";
            case DOUBLE:
                return "<f8";
            case LONG:
                return "<i8";
            default:
                throw new IllegalArgumentException("dtype " + type + " cannot be stored; FLOAT, DOUBLE or LONG");
        }
    }

    /**
     * The header for a C-order array, padded so that the data starts at a multiple of 64 bytes.
     *
     * @param type FLOAT, DOUBLE or LONG
     * @param shape the array's shape
     * @return the bytes of a version 1.0 header, magic string included; the data follows it
     * @throws IllegalArgumentException if {@code type} is not FLOAT, DOUBLE or LONG
     */
    public static byte[] header(DataType type, long... shape) {
        StringBuilder tuple = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            tuple.append(shape[i]).append(i == 0 && shape.length == 1 ? "," : i + 1 < shape.length ? ", " : "");
        }
        tuple.append(')');
        String dict = "{'descr': '" + descr(type) + "', 'fortran_order': False, 'shape': " + tuple + ", }";
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        int total = (unpadded + 63) / 64 * 64;
        StringBuilder text = new StringBuilder(dict);
        while (MAGIC.length + 4 + text.length() + 1 < total) {
            text.append(' ');
        }
        text.append('\n');
        byte[] body = text.toString().getBytes(StandardCharsets.US_ASCII);
        ByteBuffer out = ByteBuffer.allocate(MAGIC.length + 4 + body.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) body.length).put(body);
        return out.array();
    }

    /**
     * Reads and checks the header of an open {@code .npy} file.
     *
     * @param channel the file, read from byte 0 (its position is not used or changed)
     * @param name the file's name in messages
     * @throws IllegalArgumentException naming the file if it is not a {@code .npy} file of a
     *     little-endian {@code <f4}, {@code <f8} or {@code <i8} C-order array, or is shorter than its
     *     header says
     * @return the header: dtype, shape and the offset of the data
     * @throws IOException if the file cannot be read
     */
    public static Header read(FileChannel channel, String name) throws IOException {
        long size = channel.size();
        ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        channel.read(pre, 0);
        if (pre.position() < 10) {
            throw new IllegalArgumentException(name + ": not a .npy file (only " + size + " bytes)");
        }
        pre.flip();
        byte[] magic = new byte[MAGIC.length];
        pre.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new IllegalArgumentException(name + ": not a .npy file (bad magic string)");
        }
        int major = pre.get() & 0xff;
        pre.get();
        long headerLen;
        int preamble;
        if (major == 1) {
            headerLen = pre.getShort() & 0xffff;
            preamble = 10;
        } else if (major == 2 || major == 3) {
            if (pre.remaining() < 4) {
                throw new IllegalArgumentException(name + ": truncated .npy header");
            }
            headerLen = pre.getInt() & 0xffffffffL;
            preamble = 12;
        } else {
            throw new IllegalArgumentException(name + ": unsupported .npy version " + major);
        }
        if (preamble + headerLen > size || headerLen > 1 << 20) {
            throw new IllegalArgumentException(name + ": truncated .npy header (" + size + " bytes)");
        }
        ByteBuffer text = ByteBuffer.allocate((int) headerLen);
        channel.read(text, preamble);
        String dict = new String(text.array(), StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(dict);
        Matcher f = FORTRAN.matcher(dict);
        Matcher s = SHAPE.matcher(dict);
        if (!d.find() || !f.find() || !s.find()) {
            throw new IllegalArgumentException(name + ": malformed .npy header " + dict.strip());
        }
        DataType type;
        switch (d.group(1)) {
            case "<f4":
                type = DataType.FLOAT;
                break;
            case "<f8":
                type = DataType.DOUBLE;
                break;
            case "<i8":
                type = DataType.LONG;
                break;
            default:
                throw new IllegalArgumentException(name + ": dtype '" + d.group(1)
                        + "' is not supported here; need little-endian float32 (<f4), float64 (<f8) or int64 (<i8)");
        }
        if (f.group(1).equals("True")) {
            throw new IllegalArgumentException(name + ": Fortran-order arrays are not supported; save a C-order array"
                    + " (numpy.ascontiguousarray)");
        }
        List<Long> dims = new ArrayList<>();
        for (String part : s.group(1).split(",")) {
            if (!part.isBlank()) {
                try {
                    dims.add(Long.parseLong(part.strip()));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(name + ": malformed shape (" + s.group(1) + ")");
                }
            }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        for (long dim : shape) {
            if (dim < 0) {
                throw new IllegalArgumentException(name + ": negative dimension in shape " + Arrays.toString(shape));
            }
        }
        Header header = new Header(type, shape, preamble + headerLen);
        long expected;
        try {
            expected = header.fileBytes();
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " is too large");
        }
        if (size < expected) {
            throw new IllegalArgumentException(name + ": truncated: " + size + " bytes, but its header "
                    + header + " needs " + expected);
        }
        return header;
    }

    /**
     * As {@link #read(FileChannel, String)} for a path, named by the path.
     *
     * @param file a {@code .npy} file
     * @return the header: dtype, shape and the offset of the data
     * @throws IllegalArgumentException naming the file if it is not a valid {@code .npy} file of a
     *     supported dtype, or is shorter than its header says
     * @throws IOException if the file cannot be opened or read
     */
    public static Header read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file)) {
            return read(ch, file.toString());
        }
    }
}
