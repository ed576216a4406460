package io.github.gram4j.core.fast;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.internal.Workspaces;
import io.github.gram4j.core.testing.RandomArrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link ResultMemory}: results go to the caller's workspace when one was open, to ordinary memory
 * otherwise, whatever scratch workspace is current; and a tape recorded with one writes {@code V}
 * and its gradients there, with the same values as a tape kept in scratch.
 */
class ResultMemoryTest {

    private static final WorkspaceConfiguration CALLER = WorkspaceConfiguration.builder().build();

    /** A row visitor that records each row's sum. */
    private static final class RowSums implements RowVisitor<Object> {
        final double[] sums;
        boolean finished;

        RowSums(int rows) {
            sums = new double[rows];
        }

        @Override
        public Object newChunk() {
            return new Object();
        }

        @Override
        public void visit(int row, double[] scores, Object chunk) {
            double sum = 0;
            for (double v : scores) {
                sum += v;
            }
            sums[row] = sum;
        }

        @Override
        public void finish(List<Object> chunks) {
            finished = true;
        }
    }

    private static double[] values(INDArray x) {
        return x.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }

    private static String workspaceOf(INDArray x) {
        return x.isAttached() ? x.data().getParentWorkspace().getId() : null;
    }

    @Test
    void outsideAnyWorkspaceResultsAreOrdinaryMemory() {
        ResultMemory results = ResultMemory.ofCaller();
        assertFalse(results.inWorkspace());
        INDArray kept;
        INDArray scratchArray;
        try (MemoryWorkspace scratch = Workspaces.open("gram4j.test.results")) {
            INDArray fresh = results.createUninitialized(DataType.FLOAT, 3, 4);
            assertFalse(fresh.isAttached(), "a result outside any workspace");
            assertArrayEquals(new long[] {3, 4}, fresh.shape());
            assertEquals('c', fresh.ordering());
            assertSame(scratch, Nd4j.getMemoryManager().getCurrentWorkspace(), "the scratch stays current");
            scratchArray = Nd4j.arange(12).castTo(DataType.DOUBLE).reshape(4, 3);
            assertEquals("gram4j.test.results", workspaceOf(scratchArray));
            kept = results.keep(scratchArray.transpose());
            assertFalse(kept.isAttached());
            assertArrayEquals(new long[] {3, 4}, kept.shape());
            assertSame(fresh, results.keep(fresh), "what is already ordinary memory is kept as is");
            assertNull(results.keep(null));
        }
        assertArrayEquals(new double[] {0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11}, values(kept), 0.0);
    }

    @Test
    void insideACallersWorkspaceResultsGoThereAndSurviveTheScratch() {
        INDArray kept;
        INDArray vector;
        INDArray written;
        try (MemoryWorkspace caller = Nd4j.getWorkspaceManager().getAndActivateWorkspace(CALLER, "test.caller")) {
            ResultMemory results = ResultMemory.ofCaller();
            assertTrue(results.inWorkspace());
            INDArray own = Nd4j.createUninitialized(DataType.FLOAT, 2, 2);
            try (MemoryWorkspace scratch = Workspaces.open("gram4j.test.results.inside")) {
                written = results.createUninitialized(DataType.FLOAT, 2, 5).assign(7);
                assertEquals("test.caller", workspaceOf(written));
                assertSame(scratch, Nd4j.getMemoryManager().getCurrentWorkspace(), "the scratch stays current");
                INDArray scratchArray = Nd4j.createFromArray(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
                assertEquals("gram4j.test.results.inside", workspaceOf(scratchArray));
                vector = results.keep(scratchArray);
                kept = results.keep(scratchArray.reshape(2, 3));
                assertEquals("test.caller", workspaceOf(vector));
                assertEquals("test.caller", workspaceOf(kept));
                assertArrayEquals(new long[] {6}, vector.shape());
                assertSame(own, results.keep(own), "an array of the caller's workspace is kept as is");
                INDArray ordinary;
                try (MemoryWorkspace out = Workspaces.outside()) {
                    ordinary = Nd4j.ones(DataType.FLOAT, 2);
                }
                assertSame(ordinary, results.keep(ordinary), "ordinary memory is kept as is");
            }
            assertSame(caller, Nd4j.getMemoryManager().getCurrentWorkspace());
            // the scratch's memory is recycled by another use; the results are untouched
            try (MemoryWorkspace scratch = Workspaces.open("gram4j.test.results.inside")) {
                Nd4j.createUninitialized(DataType.DOUBLE, 64).assign(-1);
            }
            assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, values(vector), 0.0);
            assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, values(kept), 0.0);
            assertArrayEquals(new double[] {7, 7, 7, 7, 7, 7, 7, 7, 7, 7}, values(written), 0.0);
        }
    }

    @ParameterizedTest(name = "{0} k={1}")
    @CsvSource({"FLOAT, 3", "DOUBLE, 2", "DOUBLE, 4"})
    void aTapeWritesItsScoresAndGradientsIntoTheResultMemoryWithTheSameValues(DataType type, int k) {
        Random random = new Random(41 + k);
        ModalityBatches batches = ModalityBatches.of(RandomArrays.gaussian(random, 9, 6, type),
                RandomArrays.gaussianBatches(random, k - 1, 9, 6, type));
        INDArray g = RandomArrays.gaussian(random, 9, 9, type);
        try (MemoryWorkspace caller = Nd4j.getWorkspaceManager().getAndActivateWorkspace(CALLER, "test.tape.caller")) {
            ResultMemory results = ResultMemory.ofCaller();
            List<double[]> expected = new ArrayList<>();
            List<INDArray> actual = new ArrayList<>();
            try (MemoryWorkspace scratch = Workspaces.open("gram4j.test.tape.results")) {
                RowSums first = new RowSums(9);
                VolumeTape inScratch = VolumeTape.record(batches, first, null);
                VolumeGradients a = inScratch.backward(g, true, true);
                expected.add(values(inScratch.volumes()));
                expected.add(values(a.anchor()));
                a.candidates().forEach(x -> expected.add(values(x)));
                RowSums second = new RowSums(9);
                VolumeTape inResults = VolumeTape.record(batches, second, results);
                assertTrue(first.finished && second.finished);
                assertArrayEquals(first.sums, second.sums, 0.0, "the visitor sees the same rows");
                VolumeGradients b = inResults.backward(g, true, true);
                actual.add(inResults.volumes());
                actual.add(b.anchor());
                actual.addAll(b.candidates());
                assertEquals("gram4j.test.tape.results", workspaceOf(a.anchor()), "without: the current workspace");
            }
            assertEquals(expected.size(), actual.size());
            for (int n = 0; n < actual.size(); n++) {
                assertEquals("test.tape.caller", workspaceOf(actual.get(n)), "result " + n);
                assertArrayEquals(expected.get(n), values(actual.get(n)), 0.0, "result " + n);
            }
        } finally {
            batches.release();
        }
    }
}
