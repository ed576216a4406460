package io.github.gram4j.core.fast;

import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.internal.RowOps;
import io.github.gram4j.core.internal.Workspaces;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The GEMM-based pairwise volume: {@code V_ij = (Π_m ρ_{m,j}) · sqrt(max(s_ij, 0))} with
 * {@code s_ij = |a_i|² − Σ_m (a_i·q_{m,j})²}, the squared distance of {@code a_i} from the span
 * of candidate {@code j} (see {@link CandidateBasis}).
 *
 * <p>Work: {@code K} GEMMs ({@code B1 × d} by {@code d × B2}), the orthonormalisation
 * ({@code O(B2·d·K²)}), and {@code 2K + 4} elementwise passes over {@code B1 × B2}. Scratch lives
 * in a per-thread ND4J workspace; only the result is allocated per call.
 */
public final class FastVolume {

    static final String WORKSPACE = "gram4j.volume.fast";

    private FastVolume() {
    }

    /**
     * The {@code B1 × B2} volume matrix of validated batches, c-order, in
     * {@link ModalityBatches#dataType()}. The result is allocated in the caller's current
     * workspace, if one is active, like any ND4J op result.
     */
    public static INDArray volumes(ModalityBatches batches) {
        INDArray out = Nd4j.createUninitialized(batches.dataType(),
                new long[] {batches.anchorRows(), batches.candidateRows()}, 'c');
        try (MemoryWorkspace ignored = Workspaces.open(WORKSPACE)) {
            CandidateBasis basis = CandidateBasis.of(batches.candidates());
            volumesInto(batches.anchor(), basis, out);
        }
        return out;
    }

    /**
     * Writes {@code V} for {@code anchor} against an orthonormalised candidate set into
     * {@code out} ({@code B1 × B2}, c-order); scratch goes to the current workspace.
     */
    static void volumesInto(INDArray anchor, CandidateBasis basis, INDArray out) {
        long b1 = anchor.size(0);
        long b2 = out.size(1);
        INDArray squaredNorms = RowOps.rowDots(anchor, anchor).reshape(b1, 1);
        INDArray w = basis.size() > 1 ? Nd4j.createUninitialized(out.dataType(), new long[] {b1, b2}, 'c') : null;
        for (int m = 0; m < basis.size(); m++) {
            INDArray target = m == 0 ? out : w;
            Nd4j.gemm(anchor, basis.q(m), target, false, true, 1.0, 0.0);
            target.muli(target);
            if (m > 0) {
                out.addi(w);
            }
        }
        out.rsubiColumnVector(squaredNorms);
        Transforms.relu(out, false);
        Transforms.sqrt(out, false);
        out.muliRowVector(basis.rhoProduct().reshape(1, b2));
    }
}
