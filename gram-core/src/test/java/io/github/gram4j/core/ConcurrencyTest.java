package io.github.gram4j.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.github.gram4j.core.testing.RandomArrays;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Concurrent calls give exactly the results of serial calls (per-thread workspaces, no shared state). */
class ConcurrencyTest {

    record Problem(VolumeMethod method, INDArray anchor, INDArray[] candidates) {
        double[] solve() {
            return GramVolumes.pairwise(method, anchor, candidates).castTo(DataType.DOUBLE).dup('c').data().asDouble();
        }
    }

    @Test
    void concurrentCallsMatchSerialCalls() throws Exception {
        Random random = new Random(99);
        List<Problem> problems = new ArrayList<>();
        int[][] shapes = {{40, 30, 64, 2}, {17, 65, 32, 3}, {64, 64, 128, 4}, {9, 33, 16, 5}};
        for (int[] s : shapes) {
            for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
                INDArray[] xs = new INDArray[s[3] - 1];
                for (int m = 0; m < xs.length; m++) {
                    xs[m] = RandomArrays.gaussian(random, s[1], s[2], type);
                }
                INDArray anchor = RandomArrays.gaussian(random, s[0], s[2], type);
                problems.add(new Problem(VolumeMethod.FAST, anchor, xs));
                problems.add(new Problem(VolumeMethod.REFERENCE, anchor, xs));
            }
        }
        List<double[]> serial = new ArrayList<>();
        for (Problem p : problems) {
            serial.add(p.solve());
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<double[]>> futures = new ArrayList<>();
            List<Integer> which = new ArrayList<>();
            for (int round = 0; round < 6; round++) {
                for (int n = 0; n < problems.size(); n++) {
                    int index = (n * 7 + round) % problems.size();
                    which.add(index);
                    futures.add(pool.submit(problems.get(index)::solve));
                }
            }
            for (int f = 0; f < futures.size(); f++) {
                assertArrayEquals(serial.get(which.get(f)), futures.get(f).get(), 0.0,
                        "problem " + which.get(f) + " differs when run concurrently");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theThreadCapChangesNoResultBit() {
        Random random = new Random(101);
        INDArray anchor = RandomArrays.gaussian(random, 300, 48, DataType.FLOAT);
        INDArray[] xs = RandomArrays.gaussianBatches(random, 2, 257, 48, DataType.FLOAT);
        int saved = Gram4jConcurrency.getMaxThreads();
        try {
            Gram4jConcurrency.setMaxThreads(1);
            assertFalse(Gram4jConcurrency.isParallel());
            double[] sequential = new Problem(VolumeMethod.FAST, anchor, xs).solve();
            for (int threads : new int[] {2, 8}) {
                Gram4jConcurrency.setMaxThreads(threads);
                assertArrayEquals(sequential, new Problem(VolumeMethod.FAST, anchor, xs).solve(), 0.0, threads + " threads");
            }
        } finally {
            Gram4jConcurrency.setMaxThreads(saved);
        }
        assertThrows(IllegalArgumentException.class, () -> Gram4jConcurrency.setMaxThreads(0));
    }
}
