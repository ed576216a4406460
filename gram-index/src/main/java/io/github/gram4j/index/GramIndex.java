package io.github.gram4j.index;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32C;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An open GRAM retrieval index: a directory with a {@link IndexManifest manifest} and, per chunk,
 * the items' orthonormal bases, {@code Π ρ} and ids (see {@link IndexWriter} to build one and
 * {@link IndexSearch} to search it).
 *
 * <p><b>Checks.</b> {@link #open} reads the manifest and checks, for every chunk, that its three
 * files exist with exactly the sizes the manifest records and that the {@code .npy} headers agree
 * with the manifest's dtype, {@code d}, {@code K} and item counts. The CRC32C checksums are verified
 * <em>lazily</em>: each chunk's files are checksummed once per open index, before the chunk is first
 * used ({@link #chunk}, {@link #ids}); {@link #verifyAll()} checks them all at once. Every problem is an
 * {@link IndexFormatException} naming the file; a corrupted chunk never yields results.
 *
 * <p><b>Memory.</b> Chunks are memory-mapped on use and not cached: the gallery is read through the
 * page cache, never copied to the heap. Files must not be changed while an index is open (an index
 * is only ever appended to: existing chunk files are never rewritten).
 *
 * <p>Thread-safe: chunks may be used from several threads.
 */
public final class GramIndex {

    private final Path directory;
    private final IndexManifest manifest;
    private final AtomicBoolean[] verified;

    private GramIndex(Path directory, IndexManifest manifest) {
        this.directory = directory;
        this.manifest = manifest;
        this.verified = new AtomicBoolean[manifest.chunks().size()];
        Arrays.setAll(verified, c -> new AtomicBoolean());
    }

    /**
     * Opens the index in {@code directory}, checking the manifest, the files' presence and sizes and
     * the {@code .npy} headers (not yet the checksums, see the class doc).
     *
     * @param directory the index directory, holding {@value IndexManifest#FILE_NAME} and the chunk files
     * @return the open index; its chunks' checksums are verified on first use
     * @throws IndexFormatException naming the file, if anything is missing, truncated or mismatched
     * @throws IOException if a file cannot be read
     */
    public static GramIndex open(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            throw new IndexFormatException(directory + ": " + (Files.exists(directory) ? "not a directory"
                    : "no such index directory"));
        }
        Path manifestFile = directory.resolve(IndexManifest.FILE_NAME);
        byte[] json;
        try {
            json = Files.readAllBytes(manifestFile);
        } catch (NoSuchFileException e) {
            throw new IndexFormatException(manifestFile + ": no such file (" + directory + " is not a gram4j index)");
        }
        IndexManifest manifest = IndexManifest.parse(json, manifestFile.toString());
        GramIndex index = new GramIndex(directory, manifest);
        for (IndexManifest.Chunk c : manifest.chunks()) {
            index.checkHeaders(c);
        }
        return index;
    }

    private void checkHeaders(IndexManifest.Chunk c) throws IOException {
        checkSize(c.bases());
        checkSize(c.rhoProduct());
        checkSize(c.ids());
        long[] basesShape = {manifest.modalities(), c.items(), manifest.dim()};
        checkNpy(c.bases(), basesShape);
        checkNpy(c.rhoProduct(), new long[] {c.items()});
        if (c.items() == 0) {
            throw new IndexFormatException(file(c.bases()) + ": a chunk with no items");
        }
    }

    private void checkSize(IndexManifest.FileEntry f) throws IOException {
        Path p = file(f);
        if (!Files.isRegularFile(p)) {
            throw new IndexFormatException(p + ": named in " + IndexManifest.FILE_NAME + " but "
                    + (Files.exists(p) ? "not a regular file" : "missing"));
        }
        long size = Files.size(p);
        if (size != f.bytes()) {
            throw new IndexFormatException(p + ": " + (size < f.bytes() ? "truncated" : "has extra bytes") + ": "
                    + size + " bytes, the manifest says " + f.bytes());
        }
    }

    private void checkNpy(IndexManifest.FileEntry f, long[] shape) throws IOException {
        Path p = file(f);
        NpyFormat.Header h;
        try {
            h = NpyFormat.read(p);
        } catch (IllegalArgumentException e) {
            throw new IndexFormatException(e.getMessage(), e);
        }
        if (h.dataType() != manifest.dataType() || !Arrays.equals(h.shape(), shape)) {
            throw new IndexFormatException(p + ": holds " + h + " but the manifest needs "
                    + NpyFormat.descr(manifest.dataType()) + " " + Arrays.toString(shape) + " (dtype "
                    + IndexManifest.dtypeName(manifest.dataType()) + ", K = " + manifest.modalities() + ", d = "
                    + manifest.dim() + ")");
        }
        if (h.fileBytes() != f.bytes()) {
            throw new IndexFormatException(p + ": " + f.bytes() + " bytes, but its header " + h + " needs "
                    + h.fileBytes());
        }
    }

    /** {@return the index directory, as given to {@link #open}} */
    public Path directory() {
        return directory;
    }

    /** {@return the manifest read by {@link #open}} */
    public IndexManifest manifest() {
        return manifest;
    }

    /** {@return FLOAT or DOUBLE: the dtype of the stored bases and of search} */
    public DataType dataType() {
        return manifest.dataType();
    }

    /** {@return {@code d}, the dimension of every stored and query vector} */
    public int dim() {
        return manifest.dim();
    }

    /** {@return {@code K}: candidate vectors (modalities) per item} */
    public int modalities() {
        return manifest.modalities();
    }

    /** {@return the number of items in all chunks} */
    public long size() {
        return manifest.items();
    }

    /** {@return the number of chunks in the manifest} */
    public int chunkCount() {
        return manifest.chunks().size();
    }

    /**
     * Verifies the checksums of every chunk not verified yet.
     *
     * @throws IndexFormatException naming the file on a checksum mismatch
     * @throws IOException if a chunk file cannot be read
     */
    public void verifyAll() throws IOException {
        for (int c = 0; c < chunkCount(); c++) {
            verify(c);
        }
    }

    private void verify(int c) throws IOException {
        if (verified[c].get()) {
            return;
        }
        IndexManifest.Chunk chunk = manifest.chunks().get(c);
        for (IndexManifest.FileEntry f : List.of(chunk.bases(), chunk.rhoProduct(), chunk.ids())) {
            String crc = crc32c(file(f));
            if (!crc.equals(f.crc32c())) {
                throw new IndexFormatException(file(f) + ": corrupted: CRC32C " + crc + " but the manifest records "
                        + f.crc32c());
            }
        }
        verified[c].set(true);
    }

    /** The CRC32C of a whole file, 8 lowercase hex digits. */
    static String crc32c(Path file) throws IOException {
        CRC32C crc = new CRC32C();
        try (FileChannel ch = FileChannel.open(file)) {
            long size = ch.size();
            for (long pos = 0; pos < size; pos += 1L << 30) {
                long len = Math.min(1L << 30, size - pos);
                crc.update(ch.map(FileChannel.MapMode.READ_ONLY, pos, len));
            }
        }
        return hex(crc.getValue());
    }

    static String hex(long crc) {
        return String.format("%08x", crc);
    }

    private Path file(IndexManifest.FileEntry f) {
        return directory.resolve(f.file());
    }

    /**
     * Chunk {@code c}, memory-mapped, after verifying its checksums (once per open index).
     *
     * @param c the chunk number, {@code 0 … chunkCount() − 1}
     * @return the chunk's {@code K} bases ({@code items × d} each) and {@code Π ρ} ({@code items}), in
     *     {@link #dataType()}, as views of the mapped files
     * @throws IndexFormatException if a checksum does not match
     * @throws IndexOutOfBoundsException if {@code c} is not a chunk number
     * @throws IOException if a chunk file cannot be read or mapped
     */
    public IndexChunk chunk(int c) throws IOException {
        IndexManifest.Chunk entry = manifest.chunks().get(c);
        verify(c);
        Path basesFile = file(entry.bases());
        Path rhoFile = file(entry.rhoProduct());
        DataType type = dataType();
        long n = entry.items();
        int dim = dim();
        List<INDArray> bases = new ArrayList<>(modalities());
        List<MappedByteBuffer> keep = new ArrayList<>(modalities() + 1);
        try (FileChannel ch = FileChannel.open(basesFile)) {
            long offset = NpyFormat.read(ch, basesFile.toString()).dataOffset();
            for (int m = 0; m < modalities(); m++) {
                MappedArrays.Mapped q = MappedArrays.map(ch, offset + m * n * dim * type.width(), type, n, dim);
                bases.add(q.array());
                keep.add(q.mapping());
            }
        }
        INDArray rho;
        try (FileChannel ch = FileChannel.open(rhoFile)) {
            long offset = NpyFormat.read(ch, rhoFile.toString()).dataOffset();
            MappedArrays.Mapped r = MappedArrays.map(ch, offset, type, 1, n);
            rho = r.array().reshape(n);
            keep.add(r.mapping());
        }
        return new IndexChunk(c, entry.firstItem(), n, bases, rho, keep);
    }

    /**
     * The ids of chunk {@code c}'s items, in item order, after verifying its checksums.
     *
     * @param c the chunk number, {@code 0 … chunkCount() − 1}
     * @return the chunk's {@code items} ids; entry {@code j} is the id of global item
     *     {@code firstItem + j}
     * @throws IndexFormatException if the ids file is corrupted, not valid UTF-8 or holds another number
     *     of ids
     * @throws IndexOutOfBoundsException if {@code c} is not a chunk number
     * @throws IOException if a chunk file cannot be read
     */
    public List<String> ids(int c) throws IOException {
        IndexManifest.Chunk entry = manifest.chunks().get(c);
        verify(c);
        Path p = file(entry.ids());
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Files.readAllBytes(p))).toString();
        } catch (CharacterCodingException e) {
            throw new IndexFormatException(p + ": not valid UTF-8", e);
        }
        List<String> ids = IdLines.split(text);
        if (ids.size() != entry.items()) {
            throw new IndexFormatException(p + ": " + ids.size() + " ids for " + entry.items() + " items");
        }
        return ids;
    }

    /**
     * The id of every item, in item order (reads every ids file; {@code O(size)} memory).
     *
     * @return {@link #size()} ids; entry {@code i} is the id of global item {@code i}
     * @throws IndexFormatException if a chunk is corrupted or its ids file holds another number of ids
     * @throws IOException if a chunk file cannot be read
     */
    public List<String> allIds() throws IOException {
        List<String> all = new ArrayList<>();
        for (int c = 0; c < chunkCount(); c++) {
            all.addAll(ids(c));
        }
        return all;
    }

    /**
     * The chunk holding global item {@code item}.
     *
     * @param item a global item index, {@code 0 … size() − 1}
     * @return the number of the chunk whose items include {@code item}
     * @throws IndexOutOfBoundsException if {@code item} is not an item of this index
     */
    public int chunkOf(long item) {
        List<IndexManifest.Chunk> chunks = manifest.chunks();
        int lo = 0;
        int hi = chunks.size() - 1;
        if (item < 0 || item >= size()) {
            throw new IndexOutOfBoundsException("item " + item + " of " + size());
        }
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (chunks.get(mid).firstItem() <= item) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }
}
