package io.github.gram4j.core.fast;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.internal.Workspaces;
import io.github.gram4j.core.testing.RandomArrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The tape's two implementations (fused host loops for the CPU backend, ND4J ops for any backend)
 * agree, and its forward equals {@link GramVolumes#pairwise}. The gradients themselves are checked
 * against PyTorch and finite differences in gram-loss.
 */
class VolumeTapeTest {

    static double maxRelative(INDArray a, INDArray b) {
        double[] x = a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] y = b.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double scale = 0;
        double worst = 0;
        for (int n = 0; n < x.length; n++) {
            scale = Math.max(scale, Math.abs(y[n]));
            worst = Math.max(worst, Math.abs(x[n] - y[n]));
            assertTrue(Double.isFinite(x[n]), "finite");
        }
        return worst / scale;
    }

    @ParameterizedTest(name = "{0} k={1} B1={2} B2={3}")
    @CsvSource({"DOUBLE, 2, 9, 7", "DOUBLE, 3, 12, 5", "DOUBLE, 5, 6, 11", "FLOAT, 3, 12, 5", "FLOAT, 4, 8, 8"})
    void hostAndOpsImplementationsAgree(DataType type, int k, int b1, int b2) {
        Random random = new Random(31 * k + b1);
        INDArray anchor = RandomArrays.gaussian(random, b1, 10, type);
        INDArray[] xs = RandomArrays.gaussianBatches(random, k - 1, b2, 10, type);
        anchor.getRow(1).assign(0);                     // a zero anchor
        if (k > 2) {
            xs[1].getRow(2).assign(xs[0].getRow(2));    // duplicated candidate modalities
        }
        ModalityBatches batches = ModalityBatches.of(anchor, xs);
        INDArray g = RandomArrays.gaussian(random, b1, b2, type);
        // The duplicated candidates sit under the ρ floor, where the two orthonormalisations' rounding
        // (host: double; ops: the dtype) is amplified by 1/sqrt(η): ~1e7 in DOUBLE, ~360 in FLOAT.
        double tolerance = type == DataType.DOUBLE ? 1e-8 : 1e-4;
        try (MemoryWorkspace ignored = Workspaces.open("gram4j.test.tape")) {
            VolumeTape host = VolumeTape.record(batches, true, VolumeTape.TAPE_ELEMENTS);
            VolumeTape ops = VolumeTape.record(batches, false, VolumeTape.TAPE_ELEMENTS);
            INDArray volumes = GramVolumes.pairwise(batches.anchor(), xs);
            assertTrue(maxRelative(host.volumes(), volumes) <= tolerance, "host forward");
            assertTrue(maxRelative(ops.volumes(), volumes) <= tolerance, "ops forward");
            VolumeGradients a = host.backward(g, true, true);
            VolumeGradients b = ops.backward(g, true, true);
            assertTrue(maxRelative(a.anchor(), b.anchor()) <= tolerance, "anchor: " + maxRelative(a.anchor(), b.anchor()));
            assertEquals(k - 1, a.candidates().size());
            for (int m = 0; m < k - 1; m++) {
                double e = maxRelative(a.candidates().get(m), b.candidates().get(m));
                assertTrue(e <= tolerance, "candidates[" + m + "]: " + e);
            }
            // g as a transposed view of its transpose: same values, not c-contiguous
            VolumeGradients fromView = host.backward(g.transpose().dup('c').transpose(), true, true);
            assertTrue(maxRelative(fromView.anchor(), a.anchor()) == 0.0, "a non-contiguous g gives the same gradients");
            VolumeGradients anchorOnly = host.backward(g, true, false);
            assertArrayEquals(a.anchor().dup('c').data().asDouble(), anchorOnly.anchor().dup('c').data().asDouble(), 0.0);
            assertTrue(anchorOnly.candidates().isEmpty());
            VolumeGradients candidatesOnly = host.backward(g, false, true);
            assertEquals(null, candidatesOnly.anchor());
            assertArrayEquals(a.candidates().get(0).dup('c').data().asDouble(),
                    candidatesOnly.candidates().get(0).dup('c').data().asDouble(), 0.0);
        }
    }

    @ParameterizedTest(name = "{0} k={1} B1={2} B2={3}")
    @CsvSource({"DOUBLE, 2, 9, 7", "DOUBLE, 3, 12, 5", "DOUBLE, 5, 10, 11", "FLOAT, 3, 12, 5", "FLOAT, 4, 7, 8"})
    void blockwiseTapeEqualsTheWholeTape(DataType type, int k, int b1, int b2) {
        Random random = new Random(17 * k + b2);
        INDArray anchor = RandomArrays.gaussian(random, b1, 10, type);
        INDArray[] xs = RandomArrays.gaussianBatches(random, k - 1, b2, 10, type);
        anchor.getRow(2).assign(0);
        ModalityBatches batches = ModalityBatches.of(anchor, xs);
        INDArray g = RandomArrays.gaussian(random, b1, b2, type);
        double tolerance = type == DataType.DOUBLE ? 1e-13 : 1e-6;
        try (MemoryWorkspace ignored = Workspaces.open("gram4j.test.tape.blocks")) {
            VolumeTape whole = VolumeTape.record(batches, true, VolumeTape.TAPE_ELEMENTS);
            assertFalse(whole.blockwise(), "the reference keeps the whole tape");
            VolumeGradients expected = whole.backward(g, true, true);
            // Blocks of 3 anchor rows (the last one ragged), then of 1 row. A block of r rows uses
            // r·(2K + 3)·B2 elements; every case has (K + 2)·B1 > 3·(2K + 3), so both budgets are
            // below the whole tape's (K + 2)·B1·B2 and the tape really is blockwise (checked).
            int kk = k - 1;
            long[] budgets = {3L * (2L * kk + 3) * b2, 1L};
            int[] rows = {3, 1};
            for (int i = 0; i < budgets.length; i++) {
                long budget = budgets[i];
                VolumeTape blocked = VolumeTape.record(batches, true, budget);
                assertTrue(blocked.blockwise(), "budget " + budget + " must make the tape blockwise");
                assertEquals(rows[i], blocked.blockRows(), "anchor rows per block, budget " + budget);
                assertTrue(maxRelative(blocked.volumes(), whole.volumes()) <= tolerance, "volumes, budget " + budget);
                VolumeGradients actual = blocked.backward(g, true, true);
                double e = maxRelative(actual.anchor(), expected.anchor());
                assertTrue(e <= tolerance, "anchor, budget " + budget + ": " + e);
                for (int m = 0; m < k - 1; m++) {
                    e = maxRelative(actual.candidates().get(m), expected.candidates().get(m));
                    assertTrue(e <= tolerance, "candidates[" + m + "], budget " + budget + ": " + e);
                }
                assertEquals(null, blocked.backward(g, false, true).anchor());
                assertTrue(blocked.backward(g, true, false).candidates().isEmpty());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"FLOAT, 3e38", "DOUBLE, 1.7e308"})
    void theHostBackwardReportsWhetherItsGradientsAreFinite(DataType type, double huge) {
        Random random = new Random(5);
        INDArray anchor = RandomArrays.gaussian(random, 16, 8, type);
        INDArray[] xs = RandomArrays.gaussianBatches(random, 2, 16, 8, type);
        ModalityBatches batches = ModalityBatches.of(anchor, xs);
        try (MemoryWorkspace ignored = Workspaces.open("test.finite")) {
            VolumeTape tape = VolumeTape.record(batches);
            VolumeGradients small = tape.backward(tape.volumes().mul(0.5), true, true);
            assertTrue(small.checkedFinite(), "ordinary gradients are checked finite");
            assertTrue(allFinite(small.anchor()) && small.candidates().stream().allMatch(VolumeTapeTest::allFinite));
            // g so large that every gradient overflows the dtype: reported, not hidden
            VolumeGradients overflow = tape.backward(tape.volumes().mul(0).add(huge), true, true);
            assertFalse(overflow.checkedFinite(), "overflowing gradients must not be reported as checked finite");
            assertFalse(allFinite(overflow.anchor()) && overflow.candidates().stream().allMatch(VolumeTapeTest::allFinite));
            // the ND4J-op path checks nothing
            assertFalse(VolumeTape.record(batches, false, VolumeTape.TAPE_ELEMENTS)
                    .backward(tape.volumes().mul(0.5), true, true).checkedFinite());
        } finally {
            batches.release();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"FLOAT", "DOUBLE"})
    void theRowByRowBackwardEqualsTheMatrixOneAndConsumesTheTape(DataType type) {
        Random random = new Random(8);
        ModalityBatches batches = ModalityBatches.of(RandomArrays.gaussian(random, 12, 6, type),
                RandomArrays.gaussianBatches(random, 2, 12, 6, type));
        try (MemoryWorkspace ignored = Workspaces.open("test.rows")) {
            VolumeTape tape = VolumeTape.record(batches);
            INDArray g = RandomArrays.gaussian(random, 12, 12, type);
            VolumeGradients fromMatrix = tape.backward(g, true, true);
            double[][] rows = g.castTo(DataType.DOUBLE).toDoubleMatrix();
            VolumeGradients fromRows = tape.backward((i, scores, out) -> System.arraycopy(rows[i], 0, out, 0, 12),
                    true, true);
            double tolerance = type == DataType.DOUBLE ? 1e-14 : 1e-6;
            assertTrue(maxRelative(fromRows.anchor(), fromMatrix.anchor()) <= tolerance, "anchor");
            for (int m = 0; m < 2; m++) {
                assertTrue(maxRelative(fromRows.candidates().get(m), fromMatrix.candidates().get(m)) <= tolerance,
                        "candidate " + m);
            }
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> tape.backward(g, true, true));
            assertTrue(e.getMessage().contains("consumed"), e.getMessage());
        } finally {
            batches.release();
        }
    }

    private static boolean allFinite(INDArray x) {
        for (double v : x.castTo(DataType.DOUBLE).dup('c').data().asDouble()) {
            if (!Double.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}
