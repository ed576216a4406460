package io.github.gram4j.core.reference;

import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.internal.RowOps;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The distinct entries of all pairwise Gram matrices, computed in the batches' dtype and held
 * as doubles (exact for FLOAT values): {@code |a_i|²} ({@code B1}), {@code a_i·x_{m,j}}
 * ({@code K} GEMMs, {@code B1 × B2} each) and the candidate blocks {@code x_{m,j}·x_{l,j}}
 * ({@code B2 × K × K}). {@link #fill} assembles the {@code k × k} matrix of one pair exactly as the
 * seed's {@code volume_computation} stacks it.
 */
final class GramEntries {

    private final int k;
    private final int b1;
    private final int b2;
    private final double[] anchorSquares;
    private final double[][] anchorDots;
    private final double[] candidateBlocks;

    private GramEntries(int k, int b1, int b2, double[] anchorSquares, double[][] anchorDots,
            double[] candidateBlocks) {
        this.k = k;
        this.b1 = b1;
        this.b2 = b2;
        this.anchorSquares = anchorSquares;
        this.anchorDots = anchorDots;
        this.candidateBlocks = candidateBlocks;
    }

    /**
     * @throws IllegalArgumentException if {@code B1·B2·k²} exceeds what one Java array can hold
     *     (the reference method is for small inputs; use FAST)
     */
    static GramEntries of(ModalityBatches batches) {
        int k = batches.k();
        int kk = k - 1;
        long pairs = batches.anchorRows() * batches.candidateRows();
        if (pairs * k * k > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("the Gram tensor (" + batches.anchorRows() + ", "
                    + batches.candidateRows() + ", " + k + ", " + k
                    + ") is too large for the REFERENCE method; use FAST");
        }
        int b1 = (int) batches.anchorRows();
        int b2 = (int) batches.candidateRows();
        INDArray anchor = batches.anchor();
        double[] squares = batches.anchorSquaredNorms().toDoubleVector();
        double[][] dots = new double[kk][];
        INDArray product = Nd4j.createUninitialized(batches.dataType(), new long[] {b1, b2}, 'c');
        for (int m = 0; m < kk; m++) {
            Nd4j.gemm(anchor, batches.candidate(m), product, false, true, 1.0, 0.0);
            dots[m] = product.data().asDouble();
        }
        free(product);
        double[] blocks = new double[b2 * kk * kk];
        for (int m = 0; m < kk; m++) {
            for (int l = m; l < kk; l++) {
                INDArray pairDots = RowOps.rowDots(batches.candidate(m), batches.candidate(l));
                double[] c = pairDots.toDoubleVector();
                free(pairDots);
                for (int j = 0; j < b2; j++) {
                    blocks[(j * kk + m) * kk + l] = c[j];
                    blocks[(j * kk + l) * kk + m] = c[j];
                }
            }
        }
        return new GramEntries(k, b1, b2, squares, dots, blocks);
    }

    /** Frees a temporary now rather than when the garbage collector finds it (not in a workspace). */
    private static void free(INDArray x) {
        if (x.closeable()) {
            x.close();
        }
    }

    int k() {
        return k;
    }

    int anchorRows() {
        return b1;
    }

    int candidateRows() {
        return b2;
    }

    /** Writes the row-major {@code k × k} Gram matrix of pair {@code (i, j)} into {@code g}. */
    void fill(int i, int j, double[] g) {
        int kk = k - 1;
        g[0] = anchorSquares[i];
        for (int m = 0; m < kk; m++) {
            double u = anchorDots[m][i * b2 + j];
            g[m + 1] = u;
            g[(m + 1) * k] = u;
            int block = (j * kk + m) * kk;
            for (int l = 0; l < kk; l++) {
                g[(m + 1) * k + l + 1] = candidateBlocks[block + l];
            }
        }
    }
}
