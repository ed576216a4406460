package io.github.gram4j.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads and writes the 2-D float32/float64 {@code .npy} files of the CLI with ND4J's own npy
 * reader and writer, guarding them.
 *
 * <p>ND4J 1.0.0-M2.1's reader ({@code Nd4j.createFromNpyFile}, native {@code cnpy}) does not
 * validate its input. Found by probing it:
 * <ul>
 *   <li>a big-endian file ({@code '>f8'}) fails a native {@code assert} and aborts the JVM;</li>
 *   <li>a complex or object dtype, or a directory instead of a file, crashes the JVM (SIGSEGV);</li>
 *   <li>a truncated file is read past its end (garbage values, or a crash);</li>
 *   <li>{@code fortran_order: True} is ignored: the column-major data comes back as a C-order
 *       array of the same shape, i.e. silently scrambled;</li>
 *   <li>the header is parsed by fixed offsets ({@code "descr"} + 9, the first {@code '('} and
 *       {@code ')'}), so any header not laid out exactly as numpy writes it is misread;</li>
 *   <li>format versions 2.0 and 3.0 are refused ("Pointer doesn't look like a NumPy header");</li>
 *   <li>int32/int64/bool/uint8/float16 files load as INT/LONG/BOOL/UBYTE/HALF arrays, 1-D, 3-D and
 *       0-D files with their rank.</li>
 * </ul>
 * So every file is checked here first, in Java: a regular readable file, the NumPy magic, format
 * 1.0, a well-formed header laid out so that {@code cnpy} reads the same dtype and shape from it,
 * dtype {@code <f4} or {@code <f8}, rank 2, no empty dimension, and enough data bytes. Only then is
 * it handed to ND4J, and the dtype and shape ND4J reports are compared with the header. Fortran-order
 * files are read correctly (the data are reinterpreted and copied to C order).
 *
 * <p>ND4J's writer ({@code Nd4j.writeAsNumpy}) dumps the raw buffer under a C-order header, so
 * views and f-order arrays are written scrambled; {@link #writeAtomically} always writes a fresh
 * C-order copy.
 */
final class NpyFiles {

    /** {@code \x93NUMPY}. */
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int PREAMBLE = 10;
    private static final SecureRandom RANDOM = new SecureRandom();

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
        Header header = readHeader(file, name);
        INDArray x;
        try {
            x = Nd4j.createFromNpyFile(file.toFile());
        } catch (RuntimeException e) {
            throw new BadInputException(name + ": ND4J's npy reader failed: " + e.getMessage(), e);
        }
        if (x.dataType() != header.dataType() || !Arrays.equals(x.shape(), header.shape())) {
            throw new BadInputException(name + ": ND4J's npy reader returned " + x.dataType() + " shape "
                    + tuple(x.shape()) + " but the header says " + header.descr() + " shape "
                    + tuple(header.shape()) + "; the file cannot be read reliably");
        }
        if (header.fortranOrder()) {
            if (x.ordering() == 'f') {
                // In case a later ND4J honours fortran_order: the values are right, only the layout differs.
                return x.dup('c');
            }
            // ND4J ignored fortran_order: its C-order buffer holds the column-major data, which is
            // the C-order layout of the transpose (cols x rows).
            return x.reshape('c', header.cols(), header.rows()).transpose().dup('c');
        }
        return x;
    }

    /**
     * Checks everything about the file that ND4J's reader does not (see the class comment) and
     * returns its header.
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
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size, PREAMBLE + 0xFFFFL));
            while (buf.hasRemaining() && ch.read(buf) >= 0) {
                // fill
            }
            head = Arrays.copyOf(buf.array(), buf.position());
        } catch (AccessDeniedException e) {
            throw new BadInputException(name + ": cannot be read (permission denied)", e);
        } catch (IOException e) {
            throw new BadInputException(name + ": cannot be read: " + e.getMessage(), e);
        }
        if (size == 0) {
            throw new BadInputException(name + ": is empty (0 bytes), not a .npy file");
        }
        if (head.length < MAGIC.length || !Arrays.equals(Arrays.copyOf(head, MAGIC.length), MAGIC)) {
            throw new BadInputException(name + ": not a .npy file (it does not start with the NumPy magic \\x93NUMPY)");
        }
        if (head.length < PREAMBLE) {
            throw new BadInputException(name + ": truncated .npy file (" + size + " bytes, shorter than the npy preamble)");
        }
        int major = head[6] & 0xFF;
        int minor = head[7] & 0xFF;
        if (major != 1 || minor != 0) {
            throw new BadInputException(name + ": .npy format version " + major + "." + minor
                    + " is not supported (ND4J reads version 1.0 only, which numpy writes for every"
                    + " header under 64 KiB)");
        }
        int headerLen = ByteBuffer.wrap(head, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xFFFF;
        long dataOffset = PREAMBLE + (long) headerLen;
        if (head.length < dataOffset) {
            throw new BadInputException(name + ": truncated .npy file (the header claims " + headerLen
                    + " bytes, the file has " + size + " bytes in all)");
        }
        String text = headerText(head, headerLen, name);
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
        if (shape[0] > Integer.MAX_VALUE || shape[1] > Integer.MAX_VALUE) {
            throw new BadInputException(name + ": shape " + tuple(shape) + " is too large for ND4J's npy reader");
        }
        if (size - dataOffset < dataBytes) {
            throw new BadInputException(name + ": truncated .npy file: shape " + tuple(shape) + " " + dtypeName(descr)
                    + " needs " + dataBytes + " data bytes, the file has " + (size - dataOffset));
        }
        checkCnpyReadsTheSame(text, descr, shape, name);
        return new Header(descr, dataType, itemSize, fortran, shape, dataOffset);
    }

    /** The header dict text, checked to be printable ASCII ending with its only newline. */
    private static String headerText(byte[] head, int headerLen, String name) {
        if (headerLen == 0 || head[PREAMBLE + headerLen - 1] != '\n') {
            throw new BadInputException(name + ": malformed .npy header (it does not end with a newline)");
        }
        for (int i = PREAMBLE; i < PREAMBLE + headerLen - 1; i++) {
            int b = head[i] & 0xFF;
            if (b < 0x20 || b > 0x7E) {
                throw new BadInputException(name + ": malformed .npy header (byte 0x"
                        + Integer.toHexString(b) + " at offset " + i + ")");
            }
        }
        return new String(head, PREAMBLE, headerLen - 1, StandardCharsets.US_ASCII);
    }

    /**
     * ND4J's native reader finds the dtype at {@code indexOf("descr") + 9} of the header (from its
     * second character on) and the shape between the first {@code '('} and {@code ')'}, counting
     * commas. Reject any header where that would read something else than the real parse: a
     * misread dtype aborts the JVM, a misread shape reads garbage.
     */
    private static void checkCnpyReadsTheSame(String text, String descr, long[] shape, String name) {
        String s = text.substring(1);
        int loc = s.indexOf("descr") + 9;
        boolean descrSame = loc >= 9 && s.startsWith(descr + "'", loc);
        boolean shapeSame = false;
        int open = s.indexOf('(');
        int close = s.indexOf(')');
        if (open >= 0 && close > open) {
            String str = s.substring(open + 1, close);
            int ndims = str.endsWith(",") ? 1 : (int) str.chars().filter(c -> c == ',').count() + 1;
            if (ndims == shape.length) {
                shapeSame = true;
                for (int i = 0; i < ndims; i++) {
                    int comma = str.indexOf(',');
                    String part = comma >= 0 ? str.substring(0, comma) : str;
                    shapeSame &= part.strip().replaceFirst("L$", "").equals(Long.toString(shape[i]));
                    str = comma >= 0 ? str.substring(comma + 1) : "";
                }
            }
        }
        if (!descrSame || !shapeSame) {
            throw new BadInputException(name + ": the .npy header is not laid out as numpy writes it, and ND4J's"
                    + " npy reader would misread it (header: " + text.strip() + ")");
        }
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
     * Checks that {@code out} can be written before any work is done.
     *
     * @param out the output path as given
     * @param option the option name, for messages
     * @return the path to replace: {@code out}, or the target of {@code out} if it is a symbolic
     *     link to an existing file
     * @throws BadInputException if {@code out} is a directory or another non-regular file, or its
     *     directory does not exist or is not writable
     */
    static Path checkOutput(Path out, String option) {
        String name = option + " " + out;
        if (out.getFileName() == null) {
            throw new BadInputException(name + ": not a file name");
        }
        Path target = out;
        if (Files.isSymbolicLink(out) && Files.exists(out)) {
            try {
                target = out.toRealPath();
            } catch (IOException e) {
                throw new BadInputException(name + ": cannot resolve the symbolic link: " + e.getMessage(), e);
            }
        }
        if (Files.isDirectory(target)) {
            throw new BadInputException(name + ": is a directory");
        }
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new BadInputException(name + ": exists and is not a regular file; it will not be replaced");
        }
        Path dir = directoryOf(target);
        if (!Files.isDirectory(dir)) {
            throw new BadInputException(name + ": directory " + dir + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new BadInputException(name + ": directory " + dir + " is not writable");
        }
        return target;
    }

    /**
     * Writes {@code array} as {@code .npy} to a temporary file next to {@code target} and renames it
     * over {@code target} atomically; on any failure the temporary file is deleted and
     * {@code target} is untouched.
     *
     * @param array the array; written as a C-order copy in its dtype
     * @param target a path accepted by {@link #checkOutput}
     * @param name how messages name the output
     * @throws IOException if writing or renaming fails
     */
    static void writeAtomically(INDArray array, Path target, String name) throws IOException {
        Path dir = directoryOf(target);
        Path tmp = createTempFile(dir, target.getFileName().toString());
        Thread cleanup = new Thread(() -> deleteQuietly(tmp), "gram-delete-temp-output");
        boolean hook = addShutdownHook(cleanup);
        boolean moved = false;
        try {
            copyPermissions(target, tmp);
            Nd4j.writeAsNumpy(array.dup('c'), tmp.toFile());
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException(name + ": cannot rename " + tmp.getFileName() + " atomically over it: "
                        + e.getMessage(), e);
            }
            moved = true;
        } finally {
            if (!moved) {
                deleteQuietly(tmp);
            }
            if (hook) {
                try {
                    Runtime.getRuntime().removeShutdownHook(cleanup);
                } catch (IllegalStateException shuttingDown) {
                    // the hook runs anyway; deleting a moved-away temp name is a no-op
                }
            }
        }
    }

    private static Path createTempFile(Path dir, String targetName) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve("." + targetName + "." + Long.toHexString(RANDOM.nextLong() >>> 1) + ".tmp");
            try {
                // no attributes: the permissions follow the umask, like any new file
                return Files.createFile(tmp);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 10) {
                    throw e;
                }
            }
        }
    }

    private static void copyPermissions(Path from, Path to) {
        if (!Files.isRegularFile(from)) {
            return;
        }
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(from);
            Files.setPosixFilePermissions(to, perms);
        } catch (IOException | UnsupportedOperationException e) {
            // keep the default permissions
        }
    }

    private static boolean addShutdownHook(Thread hook) {
        try {
            Runtime.getRuntime().addShutdownHook(hook);
            return true;
        } catch (IllegalStateException shuttingDown) {
            return false;
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // nothing more to do
        }
    }

    private static Path directoryOf(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        return dir != null ? dir : file.toAbsolutePath().getRoot();
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
