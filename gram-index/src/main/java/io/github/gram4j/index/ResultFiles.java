package io.github.gram4j.index;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * Search results as files a user loads from Python or Java: {@code PREFIX.items.npy} (int64,
 * {@code Q × k}, global item indices), {@code PREFIX.volumes.npy} ({@code Q × k}, the index's dtype)
 * and {@code PREFIX.tsv} (header {@code query rank item id volume}, one line per result, ranks
 * 1-based). Each file is written to a temporary file beside it; only after all three were written
 * are the existing files moved aside and the new ones renamed into place, and a rename that fails
 * puts the old set back. So a failure leaves neither a half-written file nor a mix of old and new
 * files.
 */
public final class ResultFiles {

    /** One rename of the commit (for tests that make one fail). */
    @FunctionalInterface
    interface Mover {
        void move(Path from, Path to) throws IOException;
    }

    /** An atomic rename where the file system has one, else a plain one (same directory). */
    static final Mover RENAME = (from, to) -> {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    };

    private ResultFiles() {
    }

    /**
     * The three files written for {@code prefix}.
     *
     * @param prefix the path prefix; its file name is extended, the files lie in its directory
     * @return {@code PREFIX.items.npy}, {@code PREFIX.volumes.npy} and {@code PREFIX.tsv}, in that order
     */
    public static List<Path> paths(Path prefix) {
        String name = prefix.getFileName().toString();
        return List.of(prefix.resolveSibling(name + ".items.npy"), prefix.resolveSibling(name + ".volumes.npy"),
                prefix.resolveSibling(name + ".tsv"));
    }

    /**
     * Refuses an output prefix whose files would replace an input: the queries file (by any path or
     * link) or a file in the index directory.
     *
     * @param prefix the output prefix (see {@link #paths})
     * @param queries the queries file
     * @param indexDirectory the index directory
     * @throws IllegalArgumentException naming the output file and the input it would replace
     */
    public static void requireNotInputs(Path prefix, Path queries, Path indexDirectory) {
        Path index = indexDirectory.toAbsolutePath().normalize();
        for (Path p : paths(prefix)) {
            Path out = p.toAbsolutePath().normalize();
            boolean clobbers = out.equals(queries.toAbsolutePath().normalize()) || out.startsWith(index);
            try {
                clobbers |= Files.exists(p) && (Files.isSameFile(p, queries)
                        || Files.isDirectory(indexDirectory) && p.toRealPath().startsWith(indexDirectory.toRealPath()));
            } catch (IOException e) {
                // cannot resolve: the path checks above decide
            }
            if (clobbers) {
                throw new IllegalArgumentException("--out " + p + ": is an input (the queries " + queries
                        + " or a file of the index " + indexDirectory + "); choose another prefix");
            }
        }
    }

    /**
     * Writes {@code results} of a search of {@code index} under {@code prefix}.
     *
     * @param index the searched index: its dtype for the volumes file and its ids for the TSV
     * @param results the search results, global item indices of {@code index}
     * @param prefix the path prefix of the three files (see {@link #paths}); existing files are replaced
     * @throws IndexFormatException if an ids file of the index is corrupted
     * @throws IOException if a file cannot be written or put in place (the old files, if any, stay;
     *     nothing new is left behind)
     */
    public static void write(GramIndex index, SearchResults results, Path prefix) throws IOException {
        write(index, results, prefix, RENAME);
    }

    static void write(GramIndex index, SearchResults results, Path prefix, Mover mover) throws IOException {
        List<Path> targets = paths(prefix);
        int q = results.queries();
        int k = results.k();
        ByteBuffer items = npy(DataType.LONG, q, k);
        for (long item : results.items()) {
            items.putLong(item);
        }
        DataType type = index.dataType();
        ByteBuffer volumes = npy(type, q, k);
        for (double v : results.volumes()) {
            if (type == DataType.FLOAT) {
                volumes.putFloat((float) v);
            } else {
                volumes.putDouble(v);
            }
        }
        Map<Integer, List<String>> idsOfChunk = new HashMap<>();
        StringBuilder tsv = new StringBuilder("query\trank\titem\tid\tvolume\n");
        for (int i = 0; i < q; i++) {
            for (int r = 0; r < k; r++) {
                long item = results.item(i, r);
                int c = index.chunkOf(item);
                List<String> ids = idsOfChunk.get(c);
                if (ids == null) {
                    ids = index.ids(c);
                    idsOfChunk.put(c, ids);
                }
                String id = ids.get((int) (item - index.manifest().chunks().get(c).firstItem()));
                double v = results.volume(i, r);
                tsv.append(i).append('\t').append(r + 1).append('\t').append(item).append('\t').append(id)
                        .append('\t').append(type == DataType.FLOAT ? Float.toString((float) v) : Double.toString(v))
                        .append('\n');
            }
        }
        List<ByteBuffer> contents = List.of(items.flip(), volumes.flip(),
                ByteBuffer.wrap(tsv.toString().getBytes(StandardCharsets.UTF_8)));
        List<Path> temps = new ArrayList<>();
        try {
            for (int f = 0; f < 3; f++) {
                Path target = targets.get(f).toAbsolutePath();
                Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
                temps.add(tmp);
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                    ByteBuffer b = contents.get(f);
                    while (b.hasRemaining()) {
                        ch.write(b);
                    }
                    ch.force(true);
                }
            }
            commit(temps, targets, mover);
        } finally {
            for (Path t : temps) {
                Files.deleteIfExists(t);
            }
        }
    }

    /**
     * Moves the existing targets aside, then the new files in; on a failure, removes what went in
     * and moves the old files back before rethrowing (an old file that cannot be moved back stays
     * in its backup beside it, named in a suppressed exception). Backups are removed once the new
     * set is in.
     */
    private static void commit(List<Path> news, List<Path> targets, Mover mover) throws IOException {
        Path[] backups = new Path[targets.size()];
        boolean[] placed = new boolean[targets.size()];
        try {
            for (int f = 0; f < targets.size(); f++) {
                Path target = targets.get(f).toAbsolutePath();
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    Path backup = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".old");
                    try {
                        mover.move(target, backup);
                    } catch (IOException | RuntimeException e) {
                        Files.deleteIfExists(backup);
                        throw e;
                    }
                    backups[f] = backup;
                }
            }
            for (int f = 0; f < targets.size(); f++) {
                mover.move(news.get(f), targets.get(f));
                placed[f] = true;
            }
        } catch (IOException | RuntimeException e) {
            for (int f = 0; f < targets.size(); f++) {
                try {
                    if (placed[f]) {
                        Files.deleteIfExists(targets.get(f));
                    }
                    if (backups[f] != null) {
                        RENAME.move(backups[f], targets.get(f));
                    }
                } catch (IOException undo) {
                    IOException kept = new IOException("the previous " + targets.get(f) + " could not be put back; it is"
                            + " in " + backups[f], undo);
                    e.addSuppressed(kept);
                }
            }
            throw e;
        }
        for (Path b : backups) {
            if (b != null) {
                Files.deleteIfExists(b);
            }
        }
    }

    private static ByteBuffer npy(DataType type, int rows, int cols) {
        byte[] header = NpyFormat.header(type, rows, cols);
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(header.length + (long) rows * cols * type.width()))
                .order(ByteOrder.LITTLE_ENDIAN);
        return b.put(header);
    }
}
