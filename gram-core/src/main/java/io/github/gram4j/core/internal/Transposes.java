package io.github.gram4j.core.internal;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Transposed copies and transposed additions of 2-D FLOAT/DOUBLE matrices. On the CPU backend
 * they run on host memory in square tiles (rows of tiles in parallel), so both the reads and the
 * writes stay within cache lines; ND4J's {@code transpose().dup('c')} and {@code addi} of a
 * transposed view walk one side with a stride of a whole row (measured ~4 ms for a 1024 × 1024
 * FLOAT matrix on the project's 2-core machine). Elsewhere they are those ND4J calls.
 */
public final class Transposes {

    /** Tile side: a 64 × 64 tile of doubles is 32 KB, an L1 data cache's worth. */
    static final int TILE = 64;

    private Transposes() {
    }

    /** A new c-order {@code cols × rows} copy of {@code x}ᵀ, in {@code x}'s dtype (and current workspace). */
    public static INDArray transposed(INDArray x) {
        if (!HostArray.available()) {
            return x.transpose().dup('c');
        }
        INDArray out = Nd4j.createUninitialized(x.dataType(), new long[] {x.size(1), x.size(0)}, 'c');
        tiled(x, out, false);
        return out;
    }

    /**
     * {@code target += x}ᵀ in place.
     *
     * @param target {@code cols × rows}, c-contiguous
     * @param x {@code rows × cols}, same dtype
     * @return {@code target}
     */
    public static INDArray addTransposed(INDArray target, INDArray x) {
        if (!HostArray.available()) {
            return target.addi(x.transpose());
        }
        if (target.size(0) != x.size(1) || target.size(1) != x.size(0)) {
            throw new IllegalArgumentException("target must be " + x.size(1) + " x " + x.size(0) + " for x of shape "
                    + java.util.Arrays.toString(x.shape()) + ", got " + java.util.Arrays.toString(target.shape()));
        }
        tiled(x, target, true);
        return target;
    }

    /** {@code out = x}ᵀ, or {@code out += x}ᵀ when {@code accumulate}; {@code out} c-contiguous. */
    private static void tiled(INDArray x, INDArray out, boolean accumulate) {
        int rows = (int) x.size(0);
        int cols = (int) x.size(1);
        HostArray in = HostArray.ofAny(x);
        HostArray to = HostArray.of(out);
        int tileRows = (rows + TILE - 1) / TILE;
        HostRows.forEach(tileRows, () -> new double[TILE + 2][TILE], (t, tile) -> {
            double[] column = tile[TILE];
            double[] existing = tile[TILE + 1];
            int r0 = t * TILE;
            int height = Math.min(TILE, rows - r0);
            for (int c0 = 0; c0 < cols; c0 += TILE) {
                int width = Math.min(TILE, cols - c0);
                for (int r = 0; r < height; r++) {
                    in.read((long) (r0 + r) * cols + c0, tile[r], width);
                }
                for (int c = 0; c < width; c++) {
                    for (int r = 0; r < height; r++) {
                        column[r] = tile[r][c];
                    }
                    long at = (long) (c0 + c) * rows + r0;
                    if (accumulate) {
                        to.read(at, existing, height);
                        for (int r = 0; r < height; r++) {
                            column[r] += existing[r];
                        }
                    }
                    to.write(at, column, height);
                }
            }
        });
    }
}
