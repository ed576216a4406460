package io.github.gram4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;

import io.github.gram4j.core.testing.RandomArrays;
import io.github.gram4j.core.testing.VolumeAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Bad input fails fast with a message naming the argument and its shape; odd dtypes convert. */
class InputValidationTest {

    final Random random = new Random(5);
    final INDArray anchor = RandomArrays.gaussian(random, 4, 8, DataType.FLOAT);
    final INDArray x1 = RandomArrays.gaussian(random, 3, 8, DataType.FLOAT);
    final INDArray x2 = RandomArrays.gaussian(random, 3, 8, DataType.FLOAT);

    static void assertRejected(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment),
                    "message \"" + e.getMessage() + "\" should contain \"" + fragment + "\"");
        }
    }

    @ParameterizedTest
    @EnumSource(VolumeMethod.class)
    void rejectsNullArguments(VolumeMethod method) {
        assertRejected(() -> GramVolumes.pairwise(method, null, x1), "anchor must not be null");
        assertRejected(() -> GramVolumes.pairwise(method, anchor, x1, null), "candidates[1] must not be null");
        assertRejected(() -> GramVolumes.pairwise(method, anchor, (INDArray[]) null), "candidates", "k >= 2");
        assertRejected(() -> GramVolumes.pairwise((VolumeMethod) null, anchor, x1), "method must not be null");
        assertRejected(() -> GramVolumes.tuple(null), "vectors must not be null");
    }

    @Test
    void rejectsMissingCandidates() {
        assertRejected(() -> GramVolumes.pairwise(anchor), "candidates", "at least one candidate batch");
        assertRejected(() -> GramVolumes.gramTensor(anchor), "candidates", "at least one candidate batch");
        assertRejected(() -> GramVolumes.tuple(anchor.getRow(0, true)), "vectors", "k >= 2", "[1, 8]");
    }

    @Test
    void rejectsWrongRankNamingTheShape() {
        INDArray cube = Nd4j.zeros(DataType.FLOAT, 2, 3, 8);
        assertRejected(() -> GramVolumes.pairwise(cube, x1), "anchor", "2-D", "[2, 3, 8]");
        assertRejected(() -> GramVolumes.pairwise(anchor, x1, Nd4j.zeros(DataType.FLOAT, 8)),
                "candidates[1]", "2-D", "[8]");
        assertRejected(() -> GramVolumes.tuple(Nd4j.zeros(DataType.FLOAT, 8)), "vectors", "[8]");
    }

    @Test
    void rejectsEmptyBatches() {
        assertRejected(() -> GramVolumes.pairwise(Nd4j.create(DataType.FLOAT, 0, 8), x1), "anchor", "[0, 8]");
        assertRejected(() -> GramVolumes.pairwise(anchor, Nd4j.create(DataType.FLOAT, 0, 8)), "candidates[0]",
                "[0, 8]");
    }

    @Test
    void rejectsDimensionMismatch() {
        INDArray wide = RandomArrays.gaussian(random, 3, 9, DataType.FLOAT);
        assertRejected(() -> GramVolumes.pairwise(anchor, x1, wide), "candidates[1]", "dim 9", "anchor", "dim 8",
                "[3, 9]", "[4, 8]");
    }

    @Test
    void rejectsBatchSizeMismatchBetweenCandidates() {
        INDArray longer = RandomArrays.gaussian(random, 5, 8, DataType.FLOAT);
        assertRejected(() -> GramVolumes.pairwise(anchor, x1, longer), "candidates[1]", "5 rows",
                "candidates[0]", "3", "[5, 8]", "[3, 8]");
    }

    @Test
    void allowsDifferentAnchorAndCandidateBatchSizes() {
        assertEquals(List.of(4L, 3L), List.of(GramVolumes.pairwise(anchor, x1, x2).shape()[0],
                GramVolumes.pairwise(anchor, x1, x2).shape()[1]));
    }

    @Test
    void rejectsMixedDtypes() {
        assertRejected(() -> GramVolumes.pairwise(anchor, x1, x2.castTo(DataType.DOUBLE)), "candidates[1]",
                "DOUBLE", "anchor", "FLOAT");
    }

    @Test
    void rejectsIntegerDtypes() {
        INDArray ints = Nd4j.ones(DataType.INT32, 4, 8);
        assertRejected(() -> GramVolumes.pairwise(ints, x1.castTo(DataType.INT32)), "anchor", "INT",
                "floating-point", "[4, 8]");
        assertRejected(() -> GramVolumes.tuple(Nd4j.ones(DataType.INT64, 3, 8)), "vectors has dtype LONG", "[3, 8]",
                "floating-point");
    }

    @Test
    void rejectsNonFiniteValuesNamingTheFirstOne() {
        INDArray bad = x2.dup();
        bad.putScalar(2, 5, Float.NaN);
        bad.putScalar(2, 7, Float.POSITIVE_INFINITY);
        assertRejected(() -> GramVolumes.pairwise(anchor, x1, bad), "candidates[1]", "[3, 8]", "NaN or infinite",
                "row 2, column 5");
        INDArray inf = anchor.castTo(DataType.DOUBLE);
        inf.putScalar(3, 0, Double.NEGATIVE_INFINITY);
        assertRejected(() -> GramVolumes.pairwise(VolumeMethod.REFERENCE, inf, x1.castTo(DataType.DOUBLE)), "anchor",
                "row 3, column 0");
        INDArray vectors = x1.dup();
        vectors.putScalar(1, 1, Float.NaN);
        assertRejected(() -> GramVolumes.tuple(vectors), "vectors row 1", "row 0, column 1");
    }

    @Test
    void pairsValidatedBatchesWithoutRevalidatingAndRejectsMismatches() {
        ModalityBatches local = ModalityBatches.of(anchor, x1, x2);
        ModalityBatches other = ModalityBatches.of(x1.dup(), anchor, anchor);
        ModalityBatches paired = ModalityBatches.pair(local, other);
        assertEquals(anchor, paired.anchor());
        assertEquals(4L, paired.candidateRows());
        assertEquals(GramVolumes.pairwise(anchor, anchor, anchor), GramVolumes.pairwise(VolumeMethod.FAST, paired));
        assertRejected(() -> ModalityBatches.pair(local, ModalityBatches.of(anchor, x1)), "cannot pair", "k = 3", "k = 2");
        assertRejected(() -> ModalityBatches.pair(local, ModalityBatches.of(anchor.castTo(DataType.DOUBLE),
                x1.castTo(DataType.DOUBLE), x2.castTo(DataType.DOUBLE))), "cannot pair", "DOUBLE");
    }

    @Test
    void rejectsRowsWhoseSquaredNormOverflows() {
        INDArray huge = x1.dup();
        huge.getRow(1).muli(1e20f);
        assertRejected(() -> GramVolumes.pairwise(anchor, huge), "candidates[0]", "[3, 8]",
                "squared norm of row 1 overflows FLOAT", "use DOUBLE");
        // the same values are fine in DOUBLE
        INDArray v = GramVolumes.pairwise(anchor.castTo(DataType.DOUBLE), huge.castTo(DataType.DOUBLE));
        assertTrue(v.getDouble(0, 1) > 1e19);
    }

    @Test
    void rejectsGramTensorsTooLargeForTheReferenceMethod() {
        INDArray big = Nd4j.ones(DataType.FLOAT, 30000, 2);
        INDArray tall = Nd4j.ones(DataType.FLOAT, 30000, 2);
        assertRejected(() -> GramVolumes.gramTensor(big, tall, tall), "(30000, 30000, 3, 3)", "FAST");
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"HALF", "BFLOAT16"})
    void halfPrecisionInputsAreComputedInFloat(DataType type) {
        INDArray a = anchor.castTo(type);
        INDArray[] xs = {x1.castTo(type), x2.castTo(type)};
        for (VolumeMethod method : VolumeMethod.values()) {
            INDArray v = GramVolumes.pairwise(method, a, xs);
            assertEquals(DataType.FLOAT, v.dataType(), method.name());
            // Same numbers as FLOAT on the rounded inputs: the computation itself runs in FLOAT.
            INDArray expected = GramVolumes.pairwise(method, a.castTo(DataType.FLOAT), xs[0].castTo(DataType.FLOAT),
                    xs[1].castTo(DataType.FLOAT));
            VolumeAssert.assertClose(method + " " + type, v, expected,
                    VolumeAssert.scales(a.castTo(DataType.DOUBLE), List.of(xs[0].castTo(DataType.DOUBLE),
                            xs[1].castTo(DataType.DOUBLE))), 0.0);
        }
    }

    @Test
    void leavesTheInputsUntouched() {
        INDArray a = anchor.dup();
        INDArray b = x1.dup();
        INDArray c = x2.dup();
        GramVolumes.pairwise(anchor, x1, x2);
        GramVolumes.pairwise(VolumeMethod.REFERENCE, anchor, x1, x2);
        assertEquals(a, anchor);
        assertEquals(b, x1);
        assertEquals(c, x2);
    }

    @Test
    void acceptsViewsAndFortranOrderInputs() {
        INDArray fAnchor = anchor.dup('f');
        INDArray view = RandomArrays.gaussian(random, 6, 8, DataType.FLOAT).get(
                org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 4), org.nd4j.linalg.indexing.NDArrayIndex.all());
        INDArray expected = GramVolumes.pairwise(anchor, x1, view.dup('c'));
        VolumeAssert.assertClose("f-order anchor and view candidate", GramVolumes.pairwise(fAnchor, x1, view), expected,
                VolumeAssert.scales(anchor.castTo(DataType.DOUBLE), List.of(x1.castTo(DataType.DOUBLE),
                        view.castTo(DataType.DOUBLE))), 1e-6);
    }
}
