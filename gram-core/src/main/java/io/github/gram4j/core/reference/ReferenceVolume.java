package io.github.gram4j.core.reference;

import io.github.gram4j.core.ModalityBatches;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The seed's formula: the explicit {@code (B1, B2, k, k)} Gram tensor and {@code sqrt(|det|)} of
 * each {@code k × k} matrix. Entries are computed in the batches' dtype; determinants are
 * accumulated in double precision and rounded to that dtype.
 *
 * <p>Range: as FAST, volumes that may exceed the dtype are refused before any work, and rows whose
 * norms lie near the limits are scaled by powers of two before the Gram matrices are formed (a
 * determinant of {@code k} squared norms under- or overflows long before a volume does), then
 * the volumes scaled back: DOUBLE rows of norm 1e-150 give 1e-300, as FAST does.
 */
public final class ReferenceVolume {

    private ReferenceVolume() {
    }

    /**
     * The {@code (B1, B2, k, k)} Gram tensor in the batches' dtype, c-order.
     *
     * @param batches validated inputs
     * @return {@code G}, {@code (B1, B2, k, k)}
     */
    public static INDArray gramTensor(ModalityBatches batches) {
        GramEntries entries = GramEntries.of(batches);
        int k = entries.k();
        int b1 = entries.anchorRows();
        int b2 = entries.candidateRows();
        double[] tensor = new double[b1 * b2 * k * k];
        double[] g = new double[k * k];
        for (int i = 0; i < b1; i++) {
            for (int j = 0; j < b2; j++) {
                entries.fill(i, j, g);
                System.arraycopy(g, 0, tensor, (i * b2 + j) * k * k, k * k);
            }
        }
        return toType(Nd4j.create(tensor, new long[] {b1, b2, k, k}, DataType.DOUBLE), batches.dataType());
    }

    /**
     * The {@code B1 × B2} matrix {@code sqrt(|det G_ij|)} in the batches' dtype, c-order.
     *
     * @param batches validated inputs
     * @return {@code V}, {@code B1 × B2}
     */
    public static INDArray volumes(ModalityBatches batches) {
        batches.requireRepresentableVolumes();
        ModalityBatches.RowScaled scaled = batches.wellScaled() ? null : batches.rowScaled();
        GramEntries entries;
        try {
            entries = GramEntries.of(scaled == null ? batches : scaled.batches());
        } finally {
            if (scaled != null) {
                scaled.batches().release();
            }
        }
        int k = entries.k();
        int b1 = entries.anchorRows();
        int b2 = entries.candidateRows();
        double[] volumes = new double[b1 * b2];
        double[] g = new double[k * k];
        for (int i = 0; i < b1; i++) {
            for (int j = 0; j < b2; j++) {
                entries.fill(i, j, g);
                double v = Math.sqrt(Math.abs(Determinants.luDeterminant(g, k)));
                volumes[i * b2 + j] = scaled == null ? v : Math.scalb(v, scaled.exponent(i, j));
            }
        }
        return toType(Nd4j.create(volumes, new long[] {b1, b2}, DataType.DOUBLE), batches.dataType());
    }

    private static INDArray toType(INDArray doubles, DataType type) {
        return type == DataType.DOUBLE ? doubles : doubles.castTo(type);
    }
}
