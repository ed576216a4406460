package io.github.gram4j.index;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The manifest of an index directory ({@value #FILE_NAME}, JSON): what the chunk files hold and how
 * to check them.
 *
 * <pre>{@code
 * {"format": "gram4j-index", "format_version": 1, "dtype": "float32", "dim": 512, "modalities": 2,
 *  "items": 131072,
 *  "chunks": [{"first_item": 0, "items": 65536,
 *              "bases": {"file": "chunk-000000.bases.npy", "bytes": 268435584, "crc32c": "1a2b3c4d"},
 *              "rho_product": {"file": "chunk-000000.rho.npy", ...},
 *              "ids": {"file": "chunk-000000.ids.txt", ...}}, ...]}
 * }</pre>
 *
 * <p>{@code bases} is an {@code .npy} array of shape {@code (modalities, items, dim)}: row
 * {@code [m, j]} is the unit vector {@code q_{m,j}} of item {@code first_item + j}.
 * {@code rho_product} has shape {@code (items,)}: {@code Π_m ρ_{m,j}}. {@code ids} is UTF-8
 * text, one id per line. {@code crc32c} is the CRC32C of the whole file, 8 lowercase hex digits.
 *
 * @param formatVersion {@value #FORMAT_VERSION}
 * @param dataType FLOAT or DOUBLE
 * @param dim {@code d}
 * @param modalities {@code K}: candidate vectors per item
 * @param items the number of items, the sum over the chunks
 * @param chunks the chunks in item order, contiguous from item 0
 */
public record IndexManifest(int formatVersion, DataType dataType, int dim, int modalities, long items,
        List<Chunk> chunks) {

    /** The manifest's file name inside the index directory. */
    public static final String FILE_NAME = "manifest.json";
    /** The only format version this code reads and writes. */
    public static final int FORMAT_VERSION = 1;
    private static final String FORMAT = "gram4j-index";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * Checks the manifest's consistency.
     *
     * @param formatVersion {@value #FORMAT_VERSION}
     * @param dataType FLOAT or DOUBLE
     * @param dim {@code d}, at least 1
     * @param modalities {@code K}: candidate vectors per item, at least 1
     * @param items the number of items, the sum over the chunks
     * @param chunks the chunks in item order, contiguous from item 0 (copied)
     * @throws IllegalArgumentException if the chunks are not contiguous or do not add up to {@code items},
     *     the dtype is not FLOAT or DOUBLE, or {@code dim} or {@code modalities} is not positive
     */
    public IndexManifest {
        chunks = List.copyOf(chunks);
        long next = 0;
        for (Chunk c : chunks) {
            if (c.firstItem() != next) {
                throw new IllegalArgumentException("chunk " + c.bases().file() + " starts at item " + c.firstItem()
                        + ", expected " + next + " (chunks must be contiguous)");
            }
            next += c.items();
        }
        if (next != items) {
            throw new IllegalArgumentException("the chunks hold " + next + " items but the manifest says " + items);
        }
        if (dataType != DataType.FLOAT && dataType != DataType.DOUBLE) {
            throw new IllegalArgumentException("dtype " + dataType + ": an index stores FLOAT or DOUBLE");
        }
        if (dim < 1 || modalities < 1) {
            throw new IllegalArgumentException("dim and modalities must be positive, got " + dim + " and " + modalities);
        }
    }

    /**
     * One file of a chunk.
     *
     * @param file the file name, relative to the index directory
     * @param bytes its exact size
     * @param crc32c the CRC32C of its bytes, 8 lowercase hex digits
     */
    public record FileEntry(String file, long bytes, String crc32c) {
    }

    /**
     * One chunk: items {@code firstItem … firstItem + items − 1}.
     *
     * @param firstItem the global index of its first item
     * @param items its item count, at least 1
     * @param bases the {@code (modalities, items, dim)} bases file
     * @param rhoProduct the {@code (items,)} {@code Π ρ} file
     * @param ids the ids file
     */
    public record Chunk(long firstItem, long items, FileEntry bases, FileEntry rhoProduct, FileEntry ids) {
    }

    /** This manifest plus {@code more} chunks at the end. */
    IndexManifest plus(List<Chunk> more) {
        List<Chunk> all = new ArrayList<>(chunks);
        all.addAll(more);
        long n = items;
        for (Chunk c : more) {
            n += c.items();
        }
        return new IndexManifest(formatVersion, dataType, dim, modalities, n, all);
    }

    /**
     * The dtype's name in the manifest and in {@code .npy} terms.
     *
     * @param type FLOAT or DOUBLE (any other type is named {@code float32})
     * @return {@code float64} for DOUBLE, else {@code float32}
     */
    public static String dtypeName(DataType type) {
        return type == DataType.DOUBLE ? "float64" : "float32";
    }

    /** The manifest as JSON text (UTF-8). */
    byte[] toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("format_version", formatVersion);
        root.put("dtype", dtypeName(dataType));
        root.put("dim", dim);
        root.put("modalities", modalities);
        root.put("items", items);
        ArrayNode list = root.putArray("chunks");
        for (Chunk c : chunks) {
            ObjectNode o = list.addObject();
            o.put("first_item", c.firstItem());
            o.put("items", c.items());
            file(o.putObject("bases"), c.bases());
            file(o.putObject("rho_product"), c.rhoProduct());
            file(o.putObject("ids"), c.ids());
        }
        try {
            return (JSON.writeValueAsString(root) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the manifest", e);
        }
    }

    private static void file(ObjectNode o, FileEntry f) {
        o.put("file", f.file());
        o.put("bytes", f.bytes());
        o.put("crc32c", f.crc32c());
    }

    /**
     * Parses a manifest.
     *
     * @param name the manifest's path in messages
     * @throws IndexFormatException naming the file and the field if it is not a valid manifest
     */
    static IndexManifest parse(byte[] json, String name) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new IndexFormatException(name + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (root == null || !root.isObject()) {
            throw new IndexFormatException(name + ": not a JSON object");
        }
        if (!FORMAT.equals(root.path("format").asText(null))) {
            throw new IndexFormatException(name + ": not a gram4j index manifest (\"format\" is not \"" + FORMAT + "\")");
        }
        int version = (int) number(root, "format_version", name);
        if (version != FORMAT_VERSION) {
            throw new IndexFormatException(name + ": format_version " + version + " is not supported (this gram4j reads "
                    + FORMAT_VERSION + ")");
        }
        String dtype = text(root, "dtype", name);
        DataType type;
        if (dtype.equals("float32")) {
            type = DataType.FLOAT;
        } else if (dtype.equals("float64")) {
            type = DataType.DOUBLE;
        } else {
            throw new IndexFormatException(name + ": dtype '" + dtype + "' is not float32 or float64");
        }
        JsonNode list = root.get("chunks");
        if (list == null || !list.isArray()) {
            throw new IndexFormatException(name + ": \"chunks\" is missing or not an array");
        }
        List<Chunk> chunks = new ArrayList<>();
        for (JsonNode c : list) {
            chunks.add(new Chunk(number(c, "first_item", name), number(c, "items", name), fileEntry(c, "bases", name),
                    fileEntry(c, "rho_product", name), fileEntry(c, "ids", name)));
        }
        try {
            return new IndexManifest(version, type, Math.toIntExact(number(root, "dim", name)),
                    Math.toIntExact(number(root, "modalities", name)), number(root, "items", name), chunks);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new IndexFormatException(name + ": " + e.getMessage());
        }
    }

    private static FileEntry fileEntry(JsonNode chunk, String field, String name) {
        JsonNode o = chunk.get(field);
        if (o == null || !o.isObject()) {
            throw new IndexFormatException(name + ": a chunk has no \"" + field + "\" object");
        }
        String file = text(o, "file", name);
        if (file.isEmpty() || file.contains("/") || file.contains("\\") || file.startsWith(".")) {
            throw new IndexFormatException(name + ": chunk file name '" + file + "' must be a plain name inside the index");
        }
        String crc = text(o, "crc32c", name);
        if (!crc.matches("[0-9a-f]{8}")) {
            throw new IndexFormatException(name + ": crc32c '" + crc + "' of " + file + " is not 8 lowercase hex digits");
        }
        return new FileEntry(file, number(o, "bytes", name), crc);
    }

    private static long number(JsonNode o, String field, String name) {
        JsonNode n = o.get(field);
        if (n == null || !n.canConvertToLong() || !n.isIntegralNumber() || n.asLong() < 0) {
            throw new IndexFormatException(name + ": \"" + field + "\" is missing or not a non-negative integer");
        }
        return n.asLong();
    }

    private static String text(JsonNode o, String field, String name) {
        JsonNode n = o.get(field);
        if (n == null || !n.isTextual()) {
            throw new IndexFormatException(name + ": \"" + field + "\" is missing or not a string");
        }
        return n.asText();
    }
}
