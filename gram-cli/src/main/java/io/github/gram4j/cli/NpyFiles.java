package io.github.gram4j.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads and writes the 2-D float32/float64 {@code .npy} files of the CLI, in Java.
 *
 * <p>Reading parses and checks the whole header first: a regular readable file, the NumPy magic,
 * format version 1.0, 2.0 or 3.0, a well-formed header dict (the Python literal subset numpy
 * writes), dtype {@code <f4} or {@code <f8}, rank 2, no empty dimension and enough data bytes.
 * The payload is then read from the data offset that header gave straight into a fresh ND4J
 * array ({@code c} or {@code f} order as the header says, returned in {@code c} order); ND4J's
 * own npy reader ({@code Nd4j.createFromNpyFile}, native {@code cnpy}) is not used: in ND4J
 * 1.0.0-M2.1 it aborts or crashes the JVM on big-endian, complex, object or truncated files and
 * ignores {@code fortran_order}.
 *
 * <p>Writing ({@link #write}) produces a version-1.0 header laid out as numpy writes it and the
 * C-order data of the array (views and f-order arrays are copied to C order first; ND4J's
 * {@code Nd4j.writeAsNumpy} dumps a view's raw buffer).
 */
final class NpyFiles {

    /** {@code \x93NUMPY}. */
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** Magic, version and the 2-byte header length of format 1.0. */
    private static final int PREAMBLE = 10;
    /** The largest header accepted (numpy writes far smaller ones). */
    private static final int MAX_HEADER = 1 << 20;
    /** Bytes read or written per step of the payload. */
    private static final int CHUNK = 1 << 24;

    private NpyFiles() {
    }

    /** The parsed header of a {@code .npy} file that passed every check of {@link #readHeader}. */
    record Header(String descr, DataType dataType, int itemSize, boolean fortranOrder, long[] shape,
            long dataOffset) {

        long rows() {
            return shape[0];
        }

        long cols() {
            return shape[1];
        }

        /** Bytes of the payload. */
        long dataBytes() {
            return shape[0] * shape[1] * itemSize;
        }
    }

    /**
     * Reads a 2-D float32/float64 {@code .npy} file.
     *
     * @param file the file
     * @param name how messages name the file (the path as the user gave it)
     * @return a C-order {@code FLOAT} or {@code DOUBLE} array of the file's shape
     * @throws BadInputException naming the file, if it is not a readable 2-D float32/float64 npy
     */
    static INDArray read(Path file, String name) {
        return readPayload(file, name, readHeader(file, name));
    }

    /**
     * Reads the payload of a file whose header {@link #readHeader} returned, in Java, into a new
     * array.
     *
     * @return a C-order {@code FLOAT} or {@code DOUBLE} array of the header's shape
     * @throws BadInputException naming the file, if it cannot be read or changed since its header was read
     */
    static INDArray readPayload(Path file, String name, Header header) {
        INDArray x = Nd4j.createUninitialized(header.dataType(), header.shape().clone(), header.fortranOrder() ? 'f' : 'c');
        Pointer data = x.data().pointer();
        long total = header.dataBytes();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            for (long done = 0; done < total; ) {
                long n = Math.min(CHUNK, total - done);
                ByteBuffer chunk = bytes(data, done, n);
                while (chunk.hasRemaining()) {
                    if (ch.read(chunk, header.dataOffset() + done + chunk.position()) < 0) {
                        throw new BadInputException(name + ": truncated .npy file (it ended while being read; was it"
                                + " changed meanwhile?)");
                    }
                }
                done += n;
            }
        } catch (AccessDeniedException e) {
            throw new BadInputException(name + ": cannot be read (permission denied)", e);
        } catch (IOException e) {
            throw new BadInputException(name + ": cannot be read: " + OutputFile.reason(e), e);
        }
        return header.fortranOrder() ? x.dup('c') : x;
    }

    /** {@code length} bytes of native memory from {@code offset} bytes into {@code p}, native byte order. */
    private static ByteBuffer bytes(Pointer p, long offset, long length) {
        BytePointer b = new BytePointer(p);
        b.capacity(offset + length).limit(offset + length).position(offset);
        return b.asByteBuffer().order(ByteOrder.nativeOrder());
    }

    /**
     * Writes {@code array} as a version-1.0 {@code .npy} (numpy's header layout, C-order data in
     * the array's dtype) to {@code ch} from its current position.
     *
     * @param array a 2-D {@code FLOAT} or {@code DOUBLE} array, any order or view
     * @throws IOException if writing fails
     */
    static void write(INDArray array, FileChannel ch) throws IOException {
        if (array.rank() != 2 || array.dataType() != DataType.FLOAT && array.dataType() != DataType.DOUBLE) {
            throw new IllegalArgumentException("a 2-D FLOAT or DOUBLE array is required, got " + array.dataType()
                    + " rank " + array.rank());
        }
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalStateException("the .npy writer needs a little-endian machine");
        }
        INDArray c = array.isView() || array.ordering() != 'c' || array.offset() != 0 ? array.dup('c') : array;
        String descr = c.dataType() == DataType.FLOAT ? "<f4" : "<f8";
        StringBuilder dict = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': False, 'shape': ("
                + c.size(0) + ", " + c.size(1) + "), }");
        while ((PREAMBLE + dict.length() + 1) % 64 != 0) {
            dict.append(' ');
        }
        dict.append('\n');
        ByteBuffer head = ByteBuffer.allocate(PREAMBLE + dict.length()).order(ByteOrder.LITTLE_ENDIAN);
        head.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) dict.length())
                .put(dict.toString().getBytes(StandardCharsets.US_ASCII)).flip();
        writeFully(ch, head);
        long total = c.length() * c.dataType().width();
        Pointer data = c.data().pointer();
        for (long done = 0; done < total; ) {
            long n = Math.min(CHUNK, total - done);
            writeFully(ch, bytes(data, done, n));
            done += n;
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /**
     * Checks the file and its header (see the class comment) without reading the payload, and
     * returns the header.
     *
     * @throws BadInputException naming the file and the problem
     */
    static Header readHeader(Path file, String name) {
        if (!Files.exists(file)) {
            throw new BadInputException(name + ": no such file");
        }
        if (Files.isDirectory(file)) {
            throw new BadInputException(name + ": is a directory, not a .npy file");
        }
        if (!Files.isRegularFile(file)) {
            throw new BadInputException(name + ": is not a regular file");
        }
        if (!Files.isReadable(file)) {
            throw new BadInputException(name + ": cannot be read (permission denied)");
        }
        long size;
        byte[] head;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            size = ch.size();
            head = readBytes(ch, 0, (int) Math.min(size, 12));
            int major = head.length >= 8 ? head[6] & 0xFF : 1;
            int lenBytes = major == 1 ? 2 : 4;
            if (head.length >= 8 + lenBytes) {
                long headerLen = lenBytes == 2
                        ? ByteBuffer.wrap(head, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xFFFF
                        : ByteBuffer.wrap(head, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFFFFFFL;
                long want = Math.min(size, 8L + lenBytes + Math.min(headerLen, MAX_HEADER));
                head = readBytes(ch, 0, (int) want);
            }
        } catch (AccessDeniedException e) {
            throw new BadInputException(name + ": cannot be read (permission denied)", e);
        } catch (IOException e) {
            throw new BadInputException(name + ": cannot be read: " + OutputFile.reason(e), e);
        }
        if (size == 0) {
            throw new BadInputException(name + ": is empty (0 bytes), not a .npy file");
        }
        if (head.length < MAGIC.length || !Arrays.equals(Arrays.copyOf(head, MAGIC.length), MAGIC)) {
            throw new BadInputException(name + ": not a .npy file (it does not start with the NumPy magic \\x93NUMPY)");
        }
        if (head.length < 8) {
            throw new BadInputException(name + ": truncated .npy file (" + size + " bytes, shorter than the npy preamble)");
        }
        int major = head[6] & 0xFF;
        int minor = head[7] & 0xFF;
        if (major < 1 || major > 3 || minor != 0) {
            throw new BadInputException(name + ": .npy format version " + major + "." + minor
                    + " is not supported (1.0, 2.0 and 3.0 are)");
        }
        int preamble = major == 1 ? PREAMBLE : PREAMBLE + 2;
        if (head.length < preamble) {
            throw new BadInputException(name + ": truncated .npy file (" + size + " bytes, shorter than the npy preamble)");
        }
        long headerLen = major == 1
                ? ByteBuffer.wrap(head, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xFFFF
                : ByteBuffer.wrap(head, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFFFFFFL;
        if (headerLen > MAX_HEADER) {
            throw new BadInputException(name + ": malformed .npy header (it claims " + headerLen
                    + " bytes; more than " + MAX_HEADER + " is not accepted)");
        }
        long dataOffset = preamble + headerLen;
        if (head.length < dataOffset) {
            throw new BadInputException(name + ": truncated .npy file (the header claims " + headerLen
                    + " bytes, the file has " + size + " bytes in all)");
        }
        String text = headerText(head, preamble, (int) headerLen, major == 3, name);
        Map<String, Object> dict = new HeaderParser(text, name).parse();
        if (!dict.keySet().equals(Set.of("descr", "fortran_order", "shape"))) {
            throw new BadInputException(name + ": malformed .npy header: expected the keys descr, fortran_order"
                    + " and shape, got " + dict.keySet());
        }
        if (!(dict.get("descr") instanceof String descr)) {
            throw new BadInputException(name + ": unsupported dtype (a structured dtype); float32 or float64 is required");
        }
        if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
            throw new BadInputException(name + ": malformed .npy header: fortran_order must be True or False");
        }
        if (!(dict.get("shape") instanceof long[] shape)) {
            throw new BadInputException(name + ": malformed .npy header: shape must be a tuple of integers");
        }
        DataType dataType = floatType(descr, name);
        int itemSize = dataType == DataType.FLOAT ? 4 : 8;
        if (shape.length != 2) {
            throw new BadInputException(name + ": must be a 2-D array (rows x dim), got "
                    + (shape.length == 0 ? "a 0-D scalar" : shape.length + "-D shape " + tuple(shape)));
        }
        if (shape[0] == 0 || shape[1] == 0) {
            throw new BadInputException(name + ": is empty (shape " + tuple(shape)
                    + "); at least one row and one column are required");
        }
        long dataBytes;
        try {
            dataBytes = Math.multiplyExact(Math.multiplyExact(shape[0], shape[1]), (long) itemSize);
        } catch (ArithmeticException e) {
            throw new BadInputException(name + ": shape " + tuple(shape) + " is too large");
        }
        if (size - dataOffset < dataBytes) {
            throw new BadInputException(name + ": truncated .npy file: shape " + tuple(shape) + " " + dtypeName(descr)
                    + " needs " + dataBytes + " data bytes, the file has " + (size - dataOffset));
        }
        return new Header(descr, dataType, itemSize, fortran, shape, dataOffset);
    }

    /** The header dict text, checked to be printable (ASCII; UTF-8 in version 3.0) and to end with its only newline. */
    private static String headerText(byte[] head, int preamble, int headerLen, boolean utf8, String name) {
        if (headerLen == 0 || head[preamble + headerLen - 1] != '\n') {
            throw new BadInputException(name + ": malformed .npy header (it does not end with a newline)");
        }
        for (int i = preamble; i < preamble + headerLen - 1; i++) {
            int b = head[i] & 0xFF;
            if (b < 0x20 || b == 0x7F || b > 0x7F && !utf8) {
                throw new BadInputException(name + ": malformed .npy header (byte 0x"
                        + Integer.toHexString(b) + " at offset " + i + ")");
            }
        }
        return new String(head, preamble, headerLen - 1, utf8 ? StandardCharsets.UTF_8 : StandardCharsets.US_ASCII);
    }

    private static byte[] readBytes(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining() && ch.read(buf, position + buf.position()) >= 0) {
            // fill
        }
        return Arrays.copyOf(buf.array(), buf.position());
    }

    private static DataType floatType(String descr, String name) {
        switch (descr) {
            case "<f4":
                return DataType.FLOAT;
            case "<f8":
                return DataType.DOUBLE;
            default:
                break;
        }
        if (descr.length() >= 3 && descr.charAt(0) == '>' && descr.charAt(1) == 'f') {
            throw new BadInputException(name + ": big-endian " + dtypeName(descr) + " ('" + descr
                    + "') is not supported; save it little-endian (numpy: a.astype('<" + descr.substring(1) + "'))");
        }
        char kind = descr.length() >= 2 ? descr.charAt(1) : '?';
        if (kind == 'i' || kind == 'u') {
            throw new BadInputException(name + ": integer dtype " + dtypeName(descr) + " ('" + descr
                    + "') is not supported; float32 or float64 is required");
        }
        throw new BadInputException(name + ": dtype " + dtypeName(descr) + " ('" + descr
                + "') is not supported; float32 or float64 is required");
    }

    /** numpy's name for a simple descr: {@code <i8} → {@code int64}. */
    static String dtypeName(String descr) {
        if (descr.length() >= 2 && descr.charAt(1) == 'O') {
            return "object";
        }
        if (descr.length() < 3) {
            return descr;
        }
        String size = descr.substring(2);
        int bits;
        try {
            bits = Integer.parseInt(size) * 8;
        } catch (NumberFormatException e) {
            return descr;
        }
        switch (descr.charAt(1)) {
            case 'f':
                return "float" + bits;
            case 'i':
                return "int" + bits;
            case 'u':
                return "uint" + bits;
            case 'c':
                return "complex" + bits;
            case 'b':
                return "bool";
            case 'O':
                return "object";
            case 'U':
                return "str";
            case 'S':
                return "bytes";
            case 'V':
                return "void";
            default:
                return descr;
        }
    }

    /** numpy's spelling of a shape: {@code (3, 4)}, {@code (4,)}, {@code ()}. */
    static String tuple(long[] shape) {
        if (shape.length == 1) {
            return "(" + shape[0] + ",)";
        }
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        return sb.append(')').toString();
    }

    /**
     * The subset of Python literal syntax that npy headers use: a dict of string keys whose values
     * are strings, {@code True}/{@code False} or tuples of non-negative integers.
     */
    private static final class HeaderParser {
        private final String s;
        private final String name;
        private int pos;

        HeaderParser(String s, String name) {
            this.s = s;
            this.name = name;
        }

        Map<String, Object> parse() {
            Map<String, Object> dict = new LinkedHashMap<>();
            skipSpaces();
            expect('{');
            skipSpaces();
            while (peek() != '}') {
                String key = string();
                skipSpaces();
                expect(':');
                skipSpaces();
                if (dict.put(key, value()) != null) {
                    throw malformed("duplicate key '" + key + "'");
                }
                skipSpaces();
                if (peek() == ',') {
                    pos++;
                    skipSpaces();
                } else if (peek() != '}') {
                    throw malformed("expected ',' or '}' at column " + pos);
                }
            }
            pos++;
            skipSpaces();
            if (pos != s.length()) {
                throw malformed("unexpected text after the dict at column " + pos);
            }
            return dict;
        }

        private Object value() {
            char c = peek();
            if (c == '\'' || c == '"') {
                return string();
            }
            if (s.startsWith("True", pos)) {
                pos += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("False", pos)) {
                pos += 5;
                return Boolean.FALSE;
            }
            if (c == '(') {
                return tuple();
            }
            if (c == '[') {
                skipBalanced();
                return List.of(); // a structured dtype; reported by the caller
            }
            throw malformed("unexpected value at column " + pos);
        }

        private long[] tuple() {
            expect('(');
            List<Long> dims = new ArrayList<>();
            boolean trailingComma = false;
            skipSpaces();
            while (peek() != ')') {
                dims.add(dimension());
                skipSpaces();
                trailingComma = false;
                if (peek() == ',') {
                    pos++;
                    skipSpaces();
                    trailingComma = true;
                } else if (peek() != ')') {
                    throw malformed("expected ',' or ')' in the shape at column " + pos);
                }
            }
            pos++;
            if (dims.size() == 1 && !trailingComma) {
                // (4) is the integer 4 in Python, not a tuple; numpy never writes it
                throw malformed("shape (" + dims.get(0) + ") is not a tuple");
            }
            long[] shape = new long[dims.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = dims.get(i);
            }
            return shape;
        }

        private long dimension() {
            int start = pos;
            while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
                pos++;
            }
            if (start == pos) {
                throw malformed("expected a non-negative integer in the shape at column " + pos);
            }
            long dim;
            try {
                dim = Long.parseLong(s.substring(start, pos));
            } catch (NumberFormatException e) {
                throw malformed("shape dimension " + s.substring(start, pos) + " is too large");
            }
            if (pos < s.length() && s.charAt(pos) == 'L') {
                pos++; // a Python 2 long literal, as old numpy versions wrote
            }
            return dim;
        }

        private void skipBalanced() {
            int depth = 0;
            do {
                char c = peek();
                if (c == '[' || c == '(') {
                    depth++;
                } else if (c == ']' || c == ')') {
                    depth--;
                } else if (c == '\'' || c == '"') {
                    string();
                    continue;
                }
                pos++;
            } while (depth > 0);
        }

        private String string() {
            char quote = peek();
            if (quote != '\'' && quote != '"') {
                throw malformed("expected a quoted string at column " + pos);
            }
            int end = s.indexOf(quote, pos + 1);
            if (end < 0) {
                throw malformed("unterminated string at column " + pos);
            }
            String str = s.substring(pos + 1, end);
            if (str.indexOf('\\') >= 0) {
                throw malformed("escape sequence in string at column " + pos);
            }
            pos = end + 1;
            return str;
        }

        private void expect(char c) {
            if (peek() != c) {
                throw malformed("expected '" + c + "' at column " + pos);
            }
            pos++;
        }

        private char peek() {
            if (pos >= s.length()) {
                throw malformed("unexpected end of header");
            }
            return s.charAt(pos);
        }

        private void skipSpaces() {
            while (pos < s.length() && s.charAt(pos) == ' ') {
                pos++;
            }
        }

        private BadInputException malformed(String detail) {
            return new BadInputException(name + ": malformed .npy header (" + detail + "): "
                    + abbreviate(s.strip()));
        }

        private static String abbreviate(String text) {
            return text.length() <= 120 ? text : text.substring(0, 117) + "...";
        }
    }
}
