package io.github.gram4j.core.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@link HostArray} with long indices over several NIO segments: reads and writes that cross a
 * segment boundary, on arrays and on offset views (small segments stand in for the 2²⁷-element
 * ones that arrays over 2³¹ − 1 bytes need).
 */
class HostArrayTest {

    @BeforeAll
    static void cpuOnly() {
        Assumptions.assumeTrue(HostArray.available());
    }

    @ParameterizedTest
    @EnumSource(names = {"FLOAT", "DOUBLE"})
    void readsAndWritesAcrossSegmentBoundaries(DataType type) {
        INDArray whole = Nd4j.arange(300).castTo(type).reshape(30, 10);
        INDArray view = whole.get(NDArrayIndex.interval(3, 25), NDArrayIndex.all());   // offset 30
        for (int shift : new int[] {3, 5, 27}) {
            HostArray host = HostArray.of(view, shift);
            assertEquals(220, host.length());
            double[] row = new double[37];
            host.read(11, row, 37);
            for (int c = 0; c < 37; c++) {
                assertEquals(41 + c, row[c], "shift " + shift + ", element " + c);
            }
            assertEquals(30 + 219, host.get(219));
            double[] values = new double[29];
            for (int c = 0; c < 29; c++) {
                values[c] = -c - 0.5;
            }
            INDArray copy = view.dup();
            HostArray target = HostArray.of(copy, shift);
            target.write(7, values, 29);
            target.set(0, 99);
            double[] back = new double[29];
            target.read(7, back, 29);
            assertArrayEquals(values, back);
            assertEquals(99, copy.getDouble(0, 0));
            assertEquals(-0.5, copy.getDouble(0, 7));
            assertEquals(-28.5, copy.getDouble(3, 5));
            assertEquals(view.getDouble(3, 6), copy.getDouble(3, 6));
        }
    }
}
