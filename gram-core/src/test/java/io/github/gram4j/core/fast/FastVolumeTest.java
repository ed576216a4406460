package io.github.gram4j.core.fast;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.VolumeMethod;
import io.github.gram4j.core.testing.RandomArrays;
import io.github.gram4j.core.testing.VolumeAssert;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The FAST kernel's internal variants agree with the reference: host and ND4J orthonormalisation,
 * host and ND4J epilogues (the ND4J variants serve non-CPU backends), whole and row-blocked GEMMs.
 */
class FastVolumeTest {

    @ParameterizedTest(name = "{0} k={1} B1={2} B2={3}")
    @CsvSource({"DOUBLE, 2, 33, 17", "DOUBLE, 3, 20, 31", "DOUBLE, 5, 9, 40", "FLOAT, 2, 33, 17",
        "FLOAT, 4, 25, 12", "FLOAT, 5, 9, 40"})
    void epiloguesAndBlockingAgreeWithTheReference(DataType type, int k, int b1, int b2) {
        Random random = new Random(k * 1000 + b1);
        INDArray anchor = RandomArrays.gaussian(random, b1, 24, type);
        INDArray[] xs = RandomArrays.gaussianBatches(random, k - 1, b2, 24, type);
        anchor.getRow(1).assign(0);
        ModalityBatches batches = ModalityBatches.of(anchor, xs);
        INDArray reference = GramVolumes.pairwise(VolumeMethod.REFERENCE, batches);
        double[][] scale = VolumeAssert.scales(anchor.castTo(DataType.DOUBLE),
                Arrays.stream(xs).map(x -> x.castTo(DataType.DOUBLE)).toList());
        double tolerance = type == DataType.DOUBLE ? 1e-12 : 1e-5;
        for (boolean hostBasis : new boolean[] {true, false}) {
            for (VolumeEpilogue epilogue : VolumeEpilogue.values()) {
                // whole problem at once; then blocks of 7 rows (ragged last block); then one row at a time
                for (long scratch : List.of(FastVolume.SCRATCH_ELEMENTS, 7L * (k - 1) * b2, 1L)) {
                    INDArray v = FastVolume.volumes(batches, hostBasis, epilogue, scratch);
                    VolumeAssert.assertClose("host basis " + hostBasis + ", " + epilogue + " epilogue, scratch "
                            + scratch, v, reference, scale, tolerance);
                }
            }
        }
    }
}
