package io.github.gram4j.core.fast;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.VolumeMethod;
import io.github.gram4j.core.testing.RandomArrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Views and orders as inputs (strided rows, column slices, 'f' order) give exactly the volumes
 * and gradients of their c-order copies, on the whole-array and the blocked paths of FAST and of
 * the tape's backward (ND4J 1.0.0-M2.1's {@code get(interval, all())} of a strided view returns
 * a broken array, which the blocked paths used to slice).
 */
class ViewsAndOrdersTest {

    /** Inputs of shape {@code rows × dim} in several layouts, each with its c-order copy. */
    private static List<INDArray> layouts(Random random, int rows, int dim, DataType type) {
        INDArray big = RandomArrays.gaussian(random, 2 * rows, 2 * dim, type);
        List<INDArray> views = new ArrayList<>();
        views.add(big.get(NDArrayIndex.interval(0, 2, 2 * rows), NDArrayIndex.interval(0, dim)));    // strided rows, column slice
        views.add(big.get(NDArrayIndex.interval(1, 2, 2 * rows), NDArrayIndex.all())
                .get(NDArrayIndex.all(), NDArrayIndex.interval(dim, 2 * dim)));
        views.add(RandomArrays.gaussian(random, rows, dim, type).dup('f'));                             // 'f' order
        views.add(big.get(NDArrayIndex.all(), NDArrayIndex.interval(0, dim)).get(NDArrayIndex.interval(3, 3 + rows),
                NDArrayIndex.all()));                                                                      // column slice
        return views;
    }

    @ParameterizedTest
    @EnumSource(names = {"FLOAT", "DOUBLE"})
    void volumesOfViewsEqualThoseOfCopiesOnWholeAndBlockedPaths(DataType type) {
        Random random = new Random(41);
        int b1 = 21;
        int b2 = 13;
        int dim = 7;
        List<INDArray> anchors = layouts(random, b1, dim, type);
        List<INDArray> candidates = layouts(random, b2, dim, type);
        for (INDArray anchor : anchors) {
            for (int c = 0; c < candidates.size(); c++) {
                INDArray x1 = candidates.get(c);
                INDArray x2 = candidates.get((c + 1) % candidates.size());
                INDArray expected = GramVolumes.pairwise(VolumeMethod.FAST, anchor.dup('c'), x1.dup('c'), x2.dup('c'));
                ModalityBatches views = ModalityBatches.of(anchor, x1, x2);
                // whole, blocks of 5 rows (the last one ragged)
                for (long scratch : new long[] {FastVolume.SCRATCH_ELEMENTS, 5L * b2}) {
                    for (VolumeEpilogue epilogue : VolumeEpilogue.values()) {
                        assertEquals(expected, FastVolume.volumes(views, true, epilogue, scratch),
                                "anchor order " + anchor.ordering() + " strides " + java.util.Arrays.toString(anchor.stride())
                                        + ", scratch " + scratch + ", " + epilogue);
                    }
                }
                assertEquals(GramVolumes.pairwise(VolumeMethod.REFERENCE, anchor.dup('c'), x1.dup('c'), x2.dup('c')),
                        GramVolumes.pairwise(VolumeMethod.REFERENCE, anchor, x1, x2));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"FLOAT", "DOUBLE"})
    void gradientsOfViewsEqualThoseOfCopiesOnTheBlockwiseBackward(DataType type) {
        Random random = new Random(43);
        int b = 17;
        int dim = 6;
        List<INDArray> anchors = layouts(random, b, dim, type);
        List<INDArray> candidates = layouts(random, b, dim, type);
        INDArray g = RandomArrays.gaussian(random, b, b, type);
        for (int v = 0; v < anchors.size(); v++) {
            INDArray anchor = anchors.get(v);
            INDArray x = candidates.get(v);
            VolumeGradients expected = VolumeTape.record(ModalityBatches.of(anchor.dup('c'), x.dup('c')), true,
                    VolumeTape.TAPE_ELEMENTS).backward(g, true, true);
            // tapeElements 1: the blockwise tape, which slices anchor rows per block
            for (long tape : new long[] {VolumeTape.TAPE_ELEMENTS, 1L}) {
                VolumeGradients actual = VolumeTape.record(ModalityBatches.of(anchor, x), true, tape).backward(g, true, true);
                String what = "layout " + v + ", tape elements " + tape;
                assertClose(expected.anchor(), actual.anchor(), type, what);
                assertClose(expected.candidates().get(0), actual.candidates().get(0), type, what);
            }
        }
    }

    private static void assertClose(INDArray expected, INDArray actual, DataType type, String what) {
        double scale = expected.amaxNumber().doubleValue();
        double error = expected.sub(actual).amaxNumber().doubleValue();
        double tolerance = type == DataType.DOUBLE ? 1e-12 : 1e-5;
        assertEquals(0, error / scale, tolerance, what);
    }
}
