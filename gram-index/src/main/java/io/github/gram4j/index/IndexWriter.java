package io.github.gram4j.index;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.fast.CandidateBasis;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Builds an index directory or appends items to one (see {@link GramIndex} for the layout).
 *
 * <p>Each {@link #add} computes the items' orthonormal bases once ({@link CandidateBasis}, in the
 * index's dtype) and writes them as new chunks of at most {@code chunkSize} items. Nothing is
 * visible until {@link #commit}: a new index is written into a hidden sibling directory that is
 * renamed to its name on commit; an append writes new chunk files only (existing chunk files are
 * never rewritten) and then replaces the manifest atomically (temporary file + rename). Closing
 * without committing deletes what was written. One append at a time: an append holds an OS lock on
 * {@code DIR/append.lock}. A new build holds an OS lock on its hidden directory's sibling
 * {@code .lock} file; a build that dies without closing (killed, power loss) leaves both behind,
 * and the next {@link #create} of the same index removes them.
 *
 * <pre>{@code
 * try (IndexWriter w = IndexWriter.create(dir, DataType.FLOAT, 512, 2, 65536)) {
 *     w.add(List.of(video, audio), ids);     // B × 512 each; ids: B strings
 *     w.commit();
 * }
 * }</pre>
 */
public final class IndexWriter implements AutoCloseable {

    /** The default chunk size (items per chunk). */
    public static final int DEFAULT_CHUNK_SIZE = 65536;
    /** The largest mapped range of one chunk's basis: {@code chunkSize · d · width} must stay below it. */
    static final long MAX_BASIS_BYTES = 1L << 30;
    private static final String LOCK_FILE = "append.lock";

    /** The suffix of a fresh build's lock file, a sibling of its hidden work directory. */
    private static final String LOCK_SUFFIX = ".lock";

    private final Path target;
    private final Path workDir;
    private final boolean fresh;
    private final IndexManifest base;
    private final int chunkSize;
    private final List<IndexManifest.Chunk> added = new ArrayList<>();
    private final List<Path> written = new ArrayList<>();
    private final FileChannel lockChannel;
    private final FileLock lock;
    private boolean committed;
    private boolean closed;

    private IndexWriter(Path target, Path workDir, boolean fresh, IndexManifest base, int chunkSize,
            FileChannel lockChannel, FileLock lock) {
        this.target = target;
        this.workDir = workDir;
        this.fresh = fresh;
        this.base = base;
        this.chunkSize = chunkSize;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * Starts a new index at {@code directory}, which must not exist yet (or be an empty directory).
     *
     * @param directory where the index will be; its parent directory must exist
     * @param dataType FLOAT or DOUBLE: the stored bases' dtype (inputs are converted to it)
     * @param dim {@code d}
     * @param modalities {@code K ≥ 1}
     * @param chunkSize items per chunk, at least 1, with {@code chunkSize · d · width ≤ 1 GiB}
     * @return a writer for the new index, which appears at {@code directory} on {@link #commit}
     * @throws IllegalArgumentException naming the argument if one is out of range or the directory is
     *     not empty
     * @throws IOException if {@code directory} cannot be listed or the working directory beside it cannot
     *     be created
     */
    public static IndexWriter create(Path directory, DataType dataType, int dim, int modalities, int chunkSize)
            throws IOException {
        if (dataType != DataType.FLOAT && dataType != DataType.DOUBLE) {
            throw new IllegalArgumentException("dataType: an index stores FLOAT or DOUBLE, got " + dataType);
        }
        if (dim < 1 || modalities < 1) {
            throw new IllegalArgumentException("dim and modalities must be at least 1, got " + dim + " and " + modalities);
        }
        checkChunkSize(chunkSize, dim, dataType);
        Path dir = directory.toAbsolutePath().normalize();
        if (Files.exists(dir)) {
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException(directory + ": exists and is not a directory");
            }
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw new IllegalArgumentException(directory + ": exists and is not empty; build into a new"
                            + " directory, or add items with append");
                }
            }
        }
        Path parent = dir.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new IllegalArgumentException(directory + ": the parent directory does not exist");
        }
        String prefix = "." + dir.getFileName() + ".tmp-";
        removeAbandonedBuilds(parent, prefix);
        // the build's lock first, then its directory (named after the lock): a directory whose lock
        // can be taken belongs to a build that died, and no live build is ever without its lock
        Path lockFile = Files.createTempFile(parent, prefix, LOCK_SUFFIX);
        FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE);
        try {
            FileLock lock = ch.lock();
            Path work = workDirectory(lockFile);
            Files.createDirectory(work);
            IndexManifest empty = new IndexManifest(IndexManifest.FORMAT_VERSION, dataType, dim, modalities, 0,
                    List.of());
            return new IndexWriter(dir, work, true, empty, chunkSize, ch, lock);
        } catch (IOException | RuntimeException | Error e) {
            ch.close();
            Files.deleteIfExists(lockFile);
            throw e;
        }
    }

    /**
     * Starts appending to the existing index at {@code directory}.
     *
     * @param directory an existing index directory
     * @param chunkSize items per new chunk, at least 1, with {@code chunkSize · d · width ≤ 1 GiB}
     *     (existing chunks keep their sizes)
     * @return a writer holding the index's append lock until closed; the new items become visible on
     *     {@link #commit}
     * @throws IndexFormatException if it is not a valid index
     * @throws IllegalArgumentException if {@code chunkSize} is out of range
     * @throws IllegalStateException if another append holds the lock
     * @throws IOException if the index or its lock file cannot be read or opened
     */
    public static IndexWriter append(Path directory, int chunkSize) throws IOException {
        GramIndex existing = GramIndex.open(directory);
        checkChunkSize(chunkSize, existing.dim(), existing.dataType());
        Path dir = directory.toAbsolutePath().normalize();
        FileChannel ch = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = null;
        try {
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;     // held by another writer of this JVM
            }
            if (lock == null) {
                throw new IllegalStateException(dir.resolve(LOCK_FILE) + ": another append to this index is running");
            }
            // Re-read under the lock: a concurrent append may have committed in between.
            IndexManifest manifest = GramIndex.open(directory).manifest();
            return new IndexWriter(dir, dir, false, manifest, chunkSize, ch, lock);
        } catch (IOException | RuntimeException | Error e) {
            // nothing may keep the lock (or its channel) when no writer is returned
            try {
                if (lock != null) {
                    lock.release();
                }
            } finally {
                ch.close();
            }
            throw e;
        }
    }

    /**
     * The default chunk size for rows of {@code dim} entries of {@code type}: {@link #DEFAULT_CHUNK_SIZE},
     * or fewer where a chunk's basis would exceed 1 GiB (wide float64 rows).
     *
     * @param dim {@code d}, at least 1
     * @param type FLOAT or DOUBLE
     * @return items per chunk
     */
    public static int defaultChunkSize(int dim, DataType type) {
        return (int) Math.max(1, Math.min(DEFAULT_CHUNK_SIZE, MAX_BASIS_BYTES / ((long) Math.max(1, dim) * type.width())));
    }

    private static void checkChunkSize(int chunkSize, int dim, DataType type) {
        if (chunkSize < 1 || (long) chunkSize * dim * type.width() > MAX_BASIS_BYTES) {
            throw new IllegalArgumentException("chunkSize must be between 1 and " + MAX_BASIS_BYTES / ((long) dim
                    * type.width()) + " for d = " + dim + " in " + IndexManifest.dtypeName(type) + ", got " + chunkSize);
        }
    }

    /** {@return the manifest as it will be after {@link #commit}: the base manifest plus the chunks added so far} */
    public IndexManifest pending() {
        return base.plus(added);
    }

    /**
     * Adds {@code B} items: their {@code K} candidate vectors and ids.
     *
     * @param candidates {@code K} batches of {@code B × d}, floating point (converted to the index's
     *     dtype), finite
     * @param ids {@code B} ids: non-blank, no line breaks; duplicates are allowed (several items may
     *     share an id)
     * @throws IllegalArgumentException naming the argument and shapes if the counts, {@code d} or
     *     {@code K} do not match the index, a value is not finite or an id is invalid
     * @throws IllegalStateException if this writer is already committed or closed
     * @throws IOException if a chunk file cannot be written
     */
    public void add(List<INDArray> candidates, List<String> ids) throws IOException {
        checkOpen();
        int kk = base.modalities();
        if (candidates == null || candidates.size() != kk) {
            throw new IllegalArgumentException("candidates: the index has K = " + kk + " modalities, got "
                    + (candidates == null ? "null" : candidates.size() + " batches"));
        }
        List<String> names = new ArrayList<>(kk);
        List<INDArray> cast = new ArrayList<>(kk);
        for (int m = 0; m < kk; m++) {
            INDArray x = candidates.get(m);
            names.add("candidates[" + m + "]");
            if (x != null && x.rank() == 2 && x.size(1) != base.dim()) {
                throw new IllegalArgumentException("candidates[" + m + "] has d = " + x.size(1) + " (shape "
                        + java.util.Arrays.toString(x.shape()) + ") but the index has d = " + base.dim());
            }
            cast.add(x != null && x.dataType().isFPType() && x.dataType() != base.dataType()
                    ? x.castTo(base.dataType()) : x);
        }
        ModalityBatches batches = ModalityBatches.named(names.get(0), cast.get(0), names, cast);
        long rows = batches.candidateRows();
        if (ids == null || ids.size() != rows) {
            throw new IllegalArgumentException("ids: need one id per item (" + rows + "), got "
                    + (ids == null ? "null" : ids.size()));
        }
        for (int i = 0; i < ids.size(); i++) {
            IdLines.check(ids.get(i), "ids[" + i + "]");
        }
        for (long r0 = 0; r0 < rows; r0 += chunkSize) {
            long r1 = Math.min(rows, r0 + chunkSize);
            List<INDArray> part = new ArrayList<>(kk);
            for (INDArray x : batches.candidates()) {
                part.add(r0 == 0 && r1 == rows ? x : x.get(NDArrayIndex.interval(r0, r1), NDArrayIndex.all()));
            }
            writeChunk(part, ids.subList((int) r0, (int) r1));
        }
    }

    private void writeChunk(List<INDArray> candidates, List<String> ids) throws IOException {
        CandidateBasis basis = CandidateBasis.of(candidates);
        int number = base.chunks().size() + added.size();
        String stem = String.format("chunk-%06d", number);
        long n = ids.size();
        DataType type = base.dataType();
        IndexManifest.FileEntry bases = writeNpy(stem + ".bases.npy", type,
                new long[] {base.modalities(), n, base.dim()}, m -> basis.stacked(), 1);
        IndexManifest.FileEntry rho = writeNpy(stem + ".rho.npy", type, new long[] {n},
                m -> basis.rhoProduct(), 1);
        StringBuilder text = new StringBuilder();
        for (String id : ids) {
            text.append(id).append('\n');
        }
        IndexManifest.FileEntry idFile = writeFile(stem + ".ids.txt",
                List.of(ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8))));
        long first = base.items() + added.stream().mapToLong(IndexManifest.Chunk::items).sum();
        added.add(new IndexManifest.Chunk(first, n, bases, rho, idFile));
        // ND4J frees off-heap buffers only when the GC collects their handles; a small heap collects
        // rarely, so the chunk's bases (chunkSize · d · K values) would pile up chunk after chunk.
        basis.release();
    }

    private IndexManifest.FileEntry writeNpy(String name, DataType type, long[] shape,
            java.util.function.IntFunction<INDArray> part, int parts) throws IOException {
        List<ByteBuffer> buffers = new ArrayList<>(parts + 1);
        buffers.add(ByteBuffer.wrap(NpyFormat.header(type, shape)));
        for (int m = 0; m < parts; m++) {
            buffers.add(littleEndianBytes(part.apply(m), type));
        }
        return writeFile(name, buffers);
    }

    /** The elements of {@code x} in c-order as little-endian bytes (no copy for a c-contiguous host array). */
    private static ByteBuffer littleEndianBytes(INDArray x, DataType type) {
        INDArray c = x.dataType() == type ? x : x.castTo(type);
        if (!(c.ordering() == 'c' && c.elementWiseStride() == 1 && c.offset() == 0 && c.data().length() == c.length())) {
            c = c.dup('c');
        }
        if (Nd4j.getEnvironment().isCPU() && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            ByteBuffer b = c.data().asNio().duplicate();
            b.position(0).limit((int) (c.length() * type.width()));
            return b;
        }
        ByteBuffer b = ByteBuffer.allocate((int) (c.length() * type.width())).order(ByteOrder.LITTLE_ENDIAN);
        if (type == DataType.FLOAT) {
            b.asFloatBuffer().put(c.data().asFloat());
        } else {
            b.asDoubleBuffer().put(c.data().asDouble());
        }
        return b;
    }

    private IndexManifest.FileEntry writeFile(String name, List<ByteBuffer> buffers) throws IOException {
        Path p = workDir.resolve(name);
        written.add(p);
        CRC32C crc = new CRC32C();
        long bytes = 0;
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (ByteBuffer b : buffers) {
                crc.update(b.duplicate());
                ByteBuffer w = b.duplicate();
                while (w.hasRemaining()) {
                    bytes += ch.write(w);
                }
            }
            ch.force(true);
        }
        return new IndexManifest.FileEntry(name, bytes, GramIndex.hex(crc.getValue()));
    }

    /**
     * Makes the added items visible: writes the manifest atomically and, for a new index, renames
     * the directory into place.
     *
     * @return the committed manifest
     * @throws IllegalStateException if nothing was added to a new index, or already committed
     * @throws IOException if the manifest cannot be written or the directory cannot be moved into place
     */
    public IndexManifest commit() throws IOException {
        checkOpen();
        if (fresh && added.isEmpty()) {
            throw new IllegalStateException("a new index needs at least one item");
        }
        IndexManifest manifest = pending();
        Path tmp = workDir.resolve("." + IndexManifest.FILE_NAME + ".tmp-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        written.add(tmp);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(manifest.toJson());
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        moveAtomically(tmp, workDir.resolve(IndexManifest.FILE_NAME));
        if (fresh) {
            if (Files.isDirectory(target)) {
                try {
                    Files.delete(target); // empty (checked at create)
                } catch (DirectoryNotEmptyException e) {
                    throw new IllegalStateException(target + ": was filled while the index was being built");
                }
            }
            moveAtomically(workDir, target);
        }
        committed = true;
        return manifest;
    }

    /** The work directory that belongs to a build's lock file: the same name without the suffix. */
    private static Path workDirectory(Path lockFile) {
        String name = lockFile.getFileName().toString();
        return lockFile.resolveSibling(name.substring(0, name.length() - LOCK_SUFFIX.length()));
    }

    /**
     * Deletes the hidden work directories (and lock files) of earlier builds of the same index that
     * died before committing (killed, out of memory, power loss): those whose lock nobody holds, or
     * that have no lock file. A build in progress, in this process or another, holds its lock and
     * is left alone.
     */
    private static void removeAbandonedBuilds(Path parent, String prefix) throws IOException {
        List<Path> candidates;
        try (Stream<Path> s = Files.list(parent)) {
            candidates = s.filter(p -> p.getFileName().toString().startsWith(prefix)).toList();
        }
        for (Path p : candidates) {
            if (p.getFileName().toString().endsWith(LOCK_SUFFIX)) {
                if (!Files.exists(workDirectory(p)) && abandoned(p)) {
                    Files.deleteIfExists(p);
                }
                continue;
            }
            Path lockFile = p.resolveSibling(p.getFileName() + LOCK_SUFFIX);
            if (!Files.exists(lockFile) || abandoned(lockFile)) {
                deleteTree(p);
                Files.deleteIfExists(lockFile);
            }
        }
    }

    /** Whether nobody holds the lock on {@code lockFile} (taken and released again to find out). */
    private static boolean abandoned(Path lockFile) {
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            FileLock lock = ch.tryLock();
            if (lock == null) {
                return false;
            }
            lock.release();
            return true;
        } catch (OverlappingFileLockException e) {
            return false;     // a build of this process holds it
        } catch (IOException e) {
            return false;     // cannot tell: leave it
        }
    }

    private static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private void checkOpen() {
        if (committed || closed) {
            throw new IllegalStateException("this IndexWriter is " + (committed ? "committed" : "closed"));
        }
    }

    /** Deletes everything written if not committed, and releases the append (or build) lock. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (!committed) {
                if (fresh) {
                    deleteTree(workDir);
                } else {
                    for (Path p : written) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        } finally {
            if (lock != null) {
                try {
                    lock.release();
                } finally {
                    lockChannel.close();
                    if (fresh) {
                        Files.deleteIfExists(workDir.resolveSibling(workDir.getFileName() + LOCK_SUFFIX));
                    }
                }
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
