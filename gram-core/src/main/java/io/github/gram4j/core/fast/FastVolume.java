package io.github.gram4j.core.fast;

import java.util.List;

import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.internal.HostArray;
import io.github.gram4j.core.internal.HostRows;
import io.github.gram4j.core.internal.Workspaces;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The GEMM-based pairwise volume: {@code V_ij = (Π_m ρ_{m,j}) · sqrt(max(s_ij, 0))} with
 * {@code s_ij = |a_i|² − Σ_m (a_i·q_{m,j})²}, the squared distance of {@code a_i} from the span
 * of candidate {@code j} (see {@link CandidateBasis}).
 *
 * <p>Work: {@code K} GEMMs ({@code B1 × d} by {@code d × B2}), the orthonormalisation
 * ({@code O(B2·d·K²)}), and one fused elementwise pass over {@code B1 × B2} (see
 * {@link VolumeEpilogue}). The {@code K} GEMMs are one, against the stacked bases
 * ({@link CandidateBasis#stacked()}). Scratch lives in a per-thread ND4J workspace and is bounded:
 * anchor rows are processed in blocks so that the stacked GEMM output holds at most
 * {@value #SCRATCH_ELEMENTS} elements. Only the result is allocated per call.
 *
 * <p>Range: batches whose volumes may exceed the dtype are refused before any work
 * ({@link ModalityBatches#requireRepresentableVolumes()}); rows whose norms lie near the dtype's
 * limits ({@link ModalityBatches#wellScaled()} false) are scaled by powers of two, the volumes
 * of the scaled rows computed and scaled back, so the result is exact (or the correctly rounded
 * underflow) over the whole range.
 */
public final class FastVolume {

    static final String WORKSPACE = "gram4j.volume.fast";

    /** Upper bound on the elements of GEMM scratch (beyond the result itself). */
    static final long SCRATCH_ELEMENTS = 1L << 24;

    private FastVolume() {
    }

    /**
     * The {@code B1 × B2} volume matrix of validated batches, c-order, in
     * {@link ModalityBatches#dataType()}. The result is allocated in the caller's current
     * workspace, if one is active, like any ND4J op result.
     *
     * @param batches validated inputs
     * @return {@code V}, {@code B1 × B2}
     */
    public static INDArray volumes(ModalityBatches batches) {
        return volumes(batches, HostArray.available(), VolumeEpilogue.forBackend(), SCRATCH_ELEMENTS);
    }

    /**
     * Writes the volume matrix of validated batches into {@code out} ({@code B1 × B2}, c-contiguous,
     * {@link ModalityBatches#dataType()}; the caller checks it) and returns it.
     *
     * @param batches validated inputs
     * @param out the result, {@code B1 × B2}, c-contiguous, in the batches' dtype
     * @return {@code out}, holding {@code V}
     */
    public static INDArray volumesInto(ModalityBatches batches, INDArray out) {
        batches.requireRepresentableVolumes();
        return volumesInto(batches, out, HostArray.available(), VolumeEpilogue.forBackend(), SCRATCH_ELEMENTS);
    }

    static INDArray volumes(ModalityBatches batches, boolean hostBasis, VolumeEpilogue epilogue,
            long scratchElements) {
        batches.requireRepresentableVolumes();
        INDArray out = Nd4j.createUninitialized(batches.dataType(),
                new long[] {batches.anchorRows(), batches.candidateRows()}, 'c');
        return volumesInto(batches, out, hostBasis, epilogue, scratchElements);
    }

    private static INDArray volumesInto(ModalityBatches batches, INDArray out, boolean hostBasis,
            VolumeEpilogue epilogue, long scratchElements) {
        ModalityBatches.RowScaled scaled = null;
        try (MemoryWorkspace ignored = Workspaces.open(WORKSPACE)) {
            // the scaled copies, if any, are scratch of this workspace
            scaled = batches.wellScaled() ? null : batches.rowScaled();
            ModalityBatches input = scaled == null ? batches : scaled.batches();
            CandidateBasis basis = CandidateBasis.of(input.candidates(), hostBasis);
            volumesInto(input.anchor(), input.anchorSquaredNorms(), basis, out, epilogue, scratchElements);
        }
        if (scaled != null) {
            rescale(out, scaled);
        }
        return out;
    }

    /** {@code V_ij ← V'_ij · 2^exponent(i, j)}: the volumes of row-scaled batches back to the original scale. */
    private static void rescale(INDArray out, ModalityBatches.RowScaled scaled) {
        int rows = (int) out.size(0);
        int cols = (int) out.size(1);
        if (HostArray.available()) {
            HostArray v = HostArray.of(out);
            HostRows.forEach(rows, () -> new double[cols], (i, x) -> {
                v.read((long) i * cols, x, cols);
                for (int j = 0; j < cols; j++) {
                    x[j] = Math.scalb(x[j], scaled.exponent(i, j));
                }
                v.write((long) i * cols, x, cols);
            });
            return;
        }
        double[][] v = out.castTo(DataType.DOUBLE).toDoubleMatrix();
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                v[i][j] = Math.scalb(v[i][j], scaled.exponent(i, j));
            }
        }
        out.assign(Nd4j.create(v).castTo(out.dataType()));
    }

    /**
     * Writes {@code V} for {@code anchor} (with its row squared norms) against an orthonormalised
     * candidate set into {@code out} ({@code B1 × B2}, c-order); scratch goes to the current
     * workspace.
     */
    static void volumesInto(INDArray anchor, INDArray squaredNorms, CandidateBasis basis, INDArray out,
            VolumeEpilogue epilogue, long scratchElements) {
        long b1 = anchor.size(0);
        long b2 = out.size(1);
        int kk = basis.size();
        // one GEMM against the stacked bases per block: w_{m,ij} at column m·B2 + j (K = 1: into out)
        long rowsPerBlock = kk == 1 ? b1 : Math.max(1, Math.min(b1, scratchElements / (kk * b2)));
        INDArray scratch = kk == 1 ? null
                : Nd4j.createUninitialized(out.dataType(), new long[] {rowsPerBlock, kk * b2}, 'c');
        for (long r0 = 0; r0 < b1; r0 += rowsPerBlock) {
            long r1 = Math.min(b1, r0 + rowsPerBlock);
            boolean whole = r0 == 0 && r1 == b1;
            INDArray rows = whole ? anchor : anchor.get(NDArrayIndex.interval(r0, r1), NDArrayIndex.all());
            INDArray target = whole ? out : out.get(NDArrayIndex.interval(r0, r1), NDArrayIndex.all());
            INDArray norms = whole ? squaredNorms : squaredNorms.get(NDArrayIndex.interval(r0, r1));
            if (kk == 1) {
                Nd4j.gemm(rows, basis.stacked(), target, false, true, 1.0, 0.0);
                epilogue.apply(norms, List.of(target), basis.rhoProduct(), target);
            } else {
                INDArray w = r1 - r0 == rowsPerBlock ? scratch
                        : scratch.get(NDArrayIndex.interval(0, r1 - r0), NDArrayIndex.all());
                Nd4j.gemm(rows, basis.stacked(), w, false, true, 1.0, 0.0);
                epilogue.applyStacked(norms, w, kk, basis.rhoProduct(), target, null);
            }
        }
    }
}
