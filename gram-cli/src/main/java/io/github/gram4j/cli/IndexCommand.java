package io.github.gram4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.gram4j.index.GramIndex;
import io.github.gram4j.index.IndexFormatException;
import io.github.gram4j.index.IndexManifest;
import io.github.gram4j.index.IndexWriter;
import io.github.gram4j.index.NpyMatrixFile;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code gram index build|append|info}: a GRAM retrieval index on disk ({@link GramIndex}), searched
 * by {@code gram search} and evaluated by {@code gram eval --index}.
 */
@Command(name = "index",
        header = "Build, extend and describe a GRAM retrieval index (a directory of memory-mappable chunks).",
        synopsisSubcommandLabel = "(build | append | info)",
        subcommands = {IndexCommand.Build.class, IndexCommand.Append.class, IndexCommand.Info.class})
public final class IndexCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "no index command given; one of: build, append, info");
    }

    /** Progress of long work on stderr: one line per chunk, only when it takes a while. */
    static final class ProgressLine {
        private final PrintWriter err;
        private final String what;
        private final long start = System.nanoTime();
        private long last = start;

        ProgressLine(PrintWriter err, String what) {
            this.err = err;
            this.what = what;
        }

        /** Prints a line at most once a second, and at the end if the work took a second or more. */
        void update(long done, long total) {
            long now = System.nanoTime();
            double seconds = (now - start) / 1e9;
            if (now - last >= 1_000_000_000L || (done == total && seconds >= 1)) {
                last = now;
                err.printf(Locale.ROOT, "%s: %d/%d items (%.0f%%), %.1f s%n", what, done, total,
                        100.0 * done / Math.max(1, total), seconds);
                err.flush();
            }
        }
    }

    /** The options and the streaming loop shared by build and append. */
    abstract static class Adding implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--inputs", required = true, split = ",", paramLabel = "X.npy",
                description = "The items' candidate batches X1[,X2,...], N x d each, float32 or float64 .npy"
                        + " (row j of every file is item j). Read in chunks through memory maps.")
        List<Path> inputs;

        @Option(names = "--ids", paramLabel = "ids.txt",
                description = "UTF-8 text, one id per line, one line per item. Default: the item's index in"
                        + " the whole index (0, 1, ...).")
        Path ids;

        @Option(names = "--chunk-size", paramLabel = "N",
                description = "Items per chunk file (default " + IndexWriter.DEFAULT_CHUNK_SIZE + ", fewer for rows"
                        + " so wide that a chunk's basis would pass 1 GiB).")
        Integer chunkSize;

        /** {@code --chunk-size}, or the default for rows of {@code dim} entries of {@code type}. */
        int chunkSize(int dim, DataType type) {
            return chunkSize != null ? chunkSize : IndexWriter.defaultChunkSize(dim, type);
        }

        /** Streams the inputs into {@code writer}, chunk by chunk, then commits. */
        void addAll(IndexWriter writer, String what, long firstItem, int dim, int modalities) throws IOException {
            int chunkSize = chunkSize(dim, writer.pending().dataType());
            List<NpyMatrixFile> files = new ArrayList<>();
            try {
                for (Path p : inputs) {
                    try {
                        files.add(NpyMatrixFile.open(p, p.toString()));
                    } catch (IllegalArgumentException e) {
                        throw new BadInputException("--inputs " + e.getMessage(), e);
                    }
                }
                if (files.size() != modalities) {
                    throw new BadInputException("--inputs: the index has K = " + modalities + " modalities, got "
                            + files.size() + " files");
                }
                long rows = files.get(0).rowCount();
                for (NpyMatrixFile f : files) {
                    if (f.rowCount() != rows || f.columns() != dim) {
                        throw new BadInputException("--inputs " + f.name() + " has shape (" + f.rowCount() + ", "
                                + f.columns() + "); need (" + rows + ", " + dim + ") like "
                                + (f == files.get(0) ? "the index" : files.get(0).name()));
                    }
                }
                List<String> itemIds = itemIds(rows, firstItem);
                ProgressLine progress = new ProgressLine(spec.commandLine().getErr(), what);
                for (long r0 = 0; r0 < rows; r0 += chunkSize) {
                    long r1 = Math.min(rows, r0 + chunkSize);
                    List<INDArray> part = new ArrayList<>(files.size());
                    for (NpyMatrixFile f : files) {
                        part.add(f.rows(r0, r1));
                    }
                    try {
                        writer.add(part, itemIds.subList((int) r0, (int) r1));
                    } catch (IllegalArgumentException e) {
                        String message = e.getMessage();
                        for (int m = 0; m < files.size(); m++) {
                            message = message.replace("candidates[" + m + "]", files.get(m).name());
                        }
                        throw new BadInputException(message + (r0 > 0 ? " (row numbers count from row " + r0
                                + " of the inputs)" : ""), e);
                    }
                    for (NpyMatrixFile f : files) {
                        f.releaseRows(); // the chunk is written: its input rows may be unmapped
                    }
                    progress.update(r1, rows);
                }
            } finally {
                for (NpyMatrixFile f : files) {
                    f.close();
                }
            }
        }

        private List<String> itemIds(long rows, long firstItem) {
            if (ids == null) {
                List<String> out = new ArrayList<>((int) rows);
                for (long i = 0; i < rows; i++) {
                    out.add(Long.toString(firstItem + i));
                }
                return out;
            }
            List<String> out = EvalCommand.readIds(ids, "--ids");
            if (out.size() != rows) {
                throw new BadInputException("--ids " + ids + " has " + out.size() + " ids (lines) but "
                        + inputs.get(0) + " has " + rows + " rows; need one id per line, one line per item");
            }
            return out;
        }

        void checkChunkSize() {
            if (chunkSize != null && chunkSize < 1) {
                throw new ParameterException(spec.commandLine(), "--chunk-size must be at least 1, got " + chunkSize);
            }
        }
    }

    /** {@code gram index build}. */
    @Command(name = "build", sortOptions = false,
            header = "Build an index from the items' candidate batches.",
            description = "Computes each item's orthonormal basis (K unit vectors) and the product of its residual"
                    + " norms once, and stores them in chunk files (.npy, loadable with numpy.load(...,"
                    + " mmap_mode='r')) with a manifest.json holding dtype, d, K, the item count and the CRC32C of"
                    + " every file. The directory appears only when the build is complete.")
    static final class Build extends Adding {
        @Option(names = "--out", required = true, paramLabel = "DIR",
                description = "The index directory to create (must not exist, or be empty).")
        Path out;

        @Option(names = "--dtype", paramLabel = "DTYPE",
                description = "float32 or float64: the stored dtype. Default: the first input's dtype.")
        EmbeddingOptions.Dtype dtype;

        @Override
        public Integer call() throws IOException {
            checkChunkSize();
            DataType type;
            int dim;
            try (NpyMatrixFile first = NpyMatrixFile.open(inputs.get(0), inputs.get(0).toString())) {
                type = dtype != null ? dtype.dataType() : first.dataType();
                dim = Math.toIntExact(first.columns());
            } catch (IllegalArgumentException e) {
                throw new BadInputException("--inputs " + e.getMessage(), e);
            }
            try (IndexWriter writer = IndexWriter.create(out, type, dim, inputs.size(), chunkSize(dim, type))) {
                addAll(writer, "index build", 0, dim, inputs.size());
                IndexManifest m = writer.commit();
                spec.commandLine().getOut().printf(Locale.ROOT, "built %s: %d items, %d chunks, d = %d, K = %d, %s%n",
                        out, m.items(), m.chunks().size(), m.dim(), m.modalities(),
                        IndexManifest.dtypeName(m.dataType()));
            } catch (IllegalArgumentException e) {
                throw new BadInputException("--out " + e.getMessage(), e);
            }
            return 0;
        }
    }

    /** {@code gram index append}. */
    @Command(name = "append", sortOptions = false,
            header = "Add items to an index as new chunks (existing chunks are never rewritten).",
            description = "Writes the new items' chunks, then replaces manifest.json atomically. Inputs are"
                    + " converted to the index's dtype.")
    static final class Append extends Adding {
        @Option(names = "--index", required = true, paramLabel = "DIR", description = "The index directory.")
        Path index;

        @Override
        public Integer call() throws IOException {
            checkChunkSize();
            GramIndex existing = open(index);
            try (IndexWriter writer = IndexWriter.append(index, chunkSize(existing.dim(), existing.dataType()))) {
                IndexManifest before = writer.pending();
                addAll(writer, "index append", before.items(), before.dim(), before.modalities());
                IndexManifest m = writer.commit();
                spec.commandLine().getOut().printf(Locale.ROOT, "appended %d items to %s: %d items, %d chunks%n",
                        m.items() - before.items(), index, m.items(), m.chunks().size());
            } catch (IllegalStateException e) {
                throw new BadInputException("--index " + e.getMessage(), e);
            } catch (IllegalArgumentException e) {
                throw new BadInputException((e instanceof IndexFormatException ? "--index " : "") + e.getMessage(), e);
            }
            return 0;
        }
    }

    /** {@code gram index info}. */
    @Command(name = "info", sortOptions = false,
            header = "Describe an index (one JSON object on stdout).",
            description = "Prints format version, dtype, d, K, items, chunks and bytes. With --verify, also checks"
                    + " every file's CRC32C (otherwise checksums are checked when a chunk is first read).")
    static final class Info implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--index", required = true, paramLabel = "DIR", description = "The index directory.")
        Path index;

        @Option(names = "--verify", description = "Check every file's CRC32C now.")
        boolean verify;

        @Override
        public Integer call() throws IOException {
            GramIndex opened = open(index);
            if (verify) {
                try {
                    opened.verifyAll();
                } catch (IndexFormatException e) {
                    throw new BadInputException("--index " + e.getMessage(), e);
                }
            }
            IndexManifest m = opened.manifest();
            long bytes = 0;
            for (IndexManifest.Chunk c : m.chunks()) {
                bytes += c.bases().bytes() + c.rhoProduct().bytes() + c.ids().bytes();
            }
            ObjectNode o = JSON.createObjectNode();
            o.put("index", index.toString());
            o.put("format_version", m.formatVersion());
            o.put("dtype", IndexManifest.dtypeName(m.dataType()));
            o.put("dim", m.dim());
            o.put("modalities", m.modalities());
            o.put("items", m.items());
            o.put("chunks", m.chunks().size());
            o.put("bytes", bytes);
            o.put("checksums", verify ? "verified" : "not checked (use --verify)");
            spec.commandLine().getOut().println(JSON.writeValueAsString(o));
            return 0;
        }
    }

    /** Opens an index for a command, as bad input if it is not a valid index. */
    static GramIndex open(Path index) throws IOException {
        try {
            return GramIndex.open(index);
        } catch (IndexFormatException e) {
            throw new BadInputException("--index " + e.getMessage(), e);
        }
    }
}
