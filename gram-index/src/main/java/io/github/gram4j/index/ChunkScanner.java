package io.github.gram4j.index;

import java.io.IOException;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.fast.BasisVolumes;
import io.github.gram4j.core.internal.HostRows;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Streams the volume matrix of a query batch against an index, block by block, never holding more
 * than one block: for each chunk, for each slice of at most {@code cols} items, for each block of
 * at most {@code rows} queries, {@code K} GEMMs into reused scratch and the FAST epilogue
 * ({@link BasisVolumes}); the consumer then reads the block. The block partition depends only on the
 * query count, the index and the scratch bound, so two scans of the same queries compute every
 * volume identically (the evaluation relies on this).
 */
final class ChunkScanner {

    /** Queries per block: enough rows for the GEMMs to run at full speed. */
    static final int QUERY_BLOCK = 256;
    /** Upper bound on the scratch elements ({@code K · rows · cols}). */
    static final long SCRATCH_ELEMENTS = 1L << 24;

    /** One computed block of volumes: queries {@code q0 …}, items {@code item0 …}. */
    static final class Block {
        final int q0;
        final int rows;
        final long item0;
        final int cols;
        private final FloatBuffer floats;
        private final DoubleBuffer doubles;
        private final double[] all;

        Block(int q0, int rows, long item0, int cols, INDArray v) {
            this.q0 = q0;
            this.rows = rows;
            this.item0 = item0;
            this.cols = cols;
            if (Nd4j.getEnvironment().isCPU()) {
                floats = v.dataType() == DataType.FLOAT ? v.data().asNioFloat() : null;
                doubles = v.dataType() == DataType.DOUBLE ? v.data().asNioDouble() : null;
                all = null;
            } else {
                floats = null;
                doubles = null;
                all = v.dup('c').data().asDouble();
            }
        }

        /** Volume of query {@code q0 + r} and item {@code item0 + c}. */
        double get(int r, int c) {
            int i = r * cols + c;
            return floats != null ? floats.get(i) : doubles != null ? doubles.get(i) : all[i];
        }

        /** Row {@code r} into {@code dst[0 … cols − 1]}; {@code tmp} is float scratch of {@code cols}. */
        void row(int r, double[] dst, float[] tmp) {
            int off = r * cols;
            if (floats != null) {
                floats.get(off, tmp, 0, cols);
                for (int c = 0; c < cols; c++) {
                    dst[c] = tmp[c];
                }
            } else if (doubles != null) {
                doubles.get(off, dst, 0, cols);
            } else {
                System.arraycopy(all, off, dst, 0, cols);
            }
        }

        /**
         * Runs {@code visitor} for every row of the block, in parallel chunks through gram-core's
         * {@code HostRows} (capped by {@code Gram4jConcurrency}; returns only when every chunk has
         * finished, also when one fails). The row array is the chunk's scratch: read it, don't keep it.
         */
        void forEachRow(RowVisitor visitor) {
            HostRows.forEach(rows, RowScratch::new, (r, scratch) -> {
                row(r, scratch.values, scratch.floats);
                visitor.visit(r, scratch.values);
            });
        }

        /** One chunk's row buffers: the volumes in double, and float staging for FLOAT blocks. */
        private final class RowScratch {
            final double[] values = new double[cols];
            final float[] floats = new float[cols];
        }
    }

    /** A body run for one row of a {@link Block}: {@code v[c]} is the volume of item {@code item0 + c}. */
    @FunctionalInterface
    interface RowVisitor {
        void visit(int r, double[] v);
    }

    interface BlockConsumer {
        void accept(Block block) throws IOException;
    }

    /** Called after each chunk with the items scanned so far and in all. */
    interface Progress {
        void chunkDone(long itemsDone, long itemsTotal);
    }

    private final GramIndex index;
    private final INDArray queries;
    private final INDArray squaredNorms;
    private final int q;

    /**
     * @param queries {@code Q × d}; validated and converted to the index's dtype here
     * @throws IllegalArgumentException naming {@code queries} if the shape, dtype or values are bad
     */
    ChunkScanner(GramIndex index, INDArray queries) {
        if (queries == null || queries.rank() != 2) {
            throw new IllegalArgumentException("queries must be a 2-D (queries x d) array, got "
                    + (queries == null ? "null" : "shape " + java.util.Arrays.toString(queries.shape())));
        }
        if (queries.size(1) != index.dim()) {
            throw new IllegalArgumentException("queries have d = " + queries.size(1) + " (shape "
                    + java.util.Arrays.toString(queries.shape()) + ") but the index has d = " + index.dim());
        }
        INDArray cast = queries.dataType().isFPType() && queries.dataType() != index.dataType()
                ? queries.castTo(index.dataType()) : queries;
        ModalityBatches valid = ModalityBatches.named("queries", cast, List.of("queries"), List.of(cast));
        this.index = index;
        this.queries = valid.anchor().ordering() == 'c' ? valid.anchor() : valid.anchor().dup('c');
        this.squaredNorms = valid.anchorSquaredNorms();
        this.q = Math.toIntExact(valid.anchorRows());
    }

    int queryCount() {
        return q;
    }

    /** Scans the given chunks in the given order. */
    void scan(int[] chunks, BlockConsumer consumer, Progress progress) throws IOException {
        int kk = index.modalities();
        int rowsPerBlock = Math.min(q, QUERY_BLOCK);
        // The slice width depends on the index and the query count only, never on which chunks are
        // scanned: every scan of the same queries computes each volume identically.
        long maxItems = 0;
        for (IndexManifest.Chunk c : index.manifest().chunks()) {
            maxItems = Math.max(maxItems, c.items());
        }
        long total = 0;
        for (int c : chunks) {
            total += index.manifest().chunks().get(c).items();
        }
        int cols = (int) Math.max(1, Math.min(maxItems, SCRATCH_ELEMENTS / ((long) kk * rowsPerBlock)));
        List<INDArray> scratch = new ArrayList<>(kk);
        for (int m = 0; m < kk; m++) {
            scratch.add(Nd4j.createUninitialized(index.dataType(), new long[] {(long) rowsPerBlock * cols}, 'c'));
        }
        long done = 0;
        for (int c : chunks) {
            IndexChunk chunk = index.chunk(c);
            long n = chunk.items();
            for (long c0 = 0; c0 < n; c0 += cols) {
                int width = (int) Math.min(cols, n - c0);
                List<INDArray> bases = new ArrayList<>(kk);
                for (int m = 0; m < kk; m++) {
                    INDArray qm = chunk.basis(m);
                    bases.add(c0 == 0 && width == n ? qm
                            : qm.get(NDArrayIndex.interval(c0, c0 + width), NDArrayIndex.all()));
                }
                INDArray rho = c0 == 0 && width == n ? chunk.rhoProduct()
                        : chunk.rhoProduct().get(NDArrayIndex.interval(c0, c0 + width));
                for (int q0 = 0; q0 < q; q0 += rowsPerBlock) {
                    int rows = Math.min(rowsPerBlock, q - q0);
                    INDArray a = q0 == 0 && rows == q ? queries
                            : queries.get(NDArrayIndex.interval(q0, q0 + rows), NDArrayIndex.all());
                    INDArray norms = q0 == 0 && rows == q ? squaredNorms
                            : squaredNorms.get(NDArrayIndex.interval(q0, q0 + rows));
                    List<INDArray> w = new ArrayList<>(kk);
                    for (INDArray s : scratch) {
                        w.add(prefix(s, rows, width));
                    }
                    BasisVolumes.volumesInto(a, norms, bases, rho, w);
                    consumer.accept(new Block(q0, rows, chunk.firstItem() + c0, width, w.get(0)));
                }
            }
            done += n;
            if (progress != null) {
                progress.chunkDone(done, total);
            }
        }
    }

    /** The first {@code rows · cols} elements of a flat scratch buffer as a c-order matrix view. */
    private static INDArray prefix(INDArray flat, int rows, int cols) {
        return Nd4j.create(flat.data(), new long[] {rows, cols}, new long[] {cols, 1}, 0, 'c', flat.dataType());
    }
}
