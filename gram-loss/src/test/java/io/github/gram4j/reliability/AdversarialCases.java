package io.github.gram4j.reliability;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Adversarial GRAM inputs per dtype: zero, duplicate, collinear and in-span tuples, row norms near
 * each dtype's limits (huge, tiny, subnormal, squared norm overflowing), mixed scales, NaN and
 * infinities, and views and orders of the arrays. Each case says whether it must be refused.
 */
final class AdversarialCases {

    /** One input: the arrays (in the dtype and layout under test) and whether a refusal is required. */
    record Case(String name, DataType type, INDArray anchor, INDArray[] candidates, boolean mustRefuse) {
        int k() {
            return candidates.length + 1;
        }
    }

    static final int ROWS = 5;
    static final int DIM = 4;

    private AdversarialCases() {
    }

    /** Norm levels per dtype: {name, norm, must refuse (squared norm overflows the dtype)}. */
    private static Object[][] levels(DataType type) {
        switch (type) {
            case DOUBLE:
                return new Object[][] {{"norm 1e150", 1e150, false}, {"norm 1e154", 1e154, false},
                    {"norm 1e-150", 1e-150, false}, {"norm 1e-160", 1e-160, false}, {"subnormal 1e-310", 1e-310, false},
                    {"squared norm overflows 1e155", 1e155, true}, {"norm 2^30", Math.scalb(1.0, 30), false},
                    {"norm 2^-30", Math.scalb(1.0, -30), false}};
            case FLOAT:
                return new Object[][] {{"norm 1e18", 1e18, false}, {"norm 1e19", 1e19, false},
                    {"norm 1e-20", 1e-20, false}, {"subnormal 1e-40", 1e-40, false},
                    {"squared norm overflows 2e19", 2e19, true}, {"norm 2^30", Math.scalb(1.0, 30), false},
                    {"norm 2^-30", Math.scalb(1.0, -30), false}};
            case HALF:
                return new Object[][] {{"norm 6e4", 6e4, false}, {"norm 1e3", 1e3, false}, {"norm 1e-4", 1e-4, false},
                    {"subnormal 1e-7", 1e-7, false}};
            default:
                return new Object[][] {{"norm 1e18", 1e18, false}, {"norm 1e-20", 1e-20, false},
                    {"subnormal 1e-39", 1e-39, false}, {"squared norm overflows 1e20", 1e20, true}};
        }
    }

    static List<Case> all(long seed) {
        List<Case> cases = new ArrayList<>();
        Random random = new Random(seed);
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE, DataType.HALF, DataType.BFLOAT16}) {
            for (int k = 2; k <= 4; k++) {
                int kk = k - 1;
                double[][] a = gaussian(random, ROWS);
                double[][][] x = new double[kk][][];
                for (int m = 0; m < kk; m++) {
                    x[m] = gaussian(random, ROWS);
                }
                cases.add(make("random", type, a, x, false));
                double[][] zeroAnchor = copy(a);
                zeroAnchor[1] = new double[DIM];
                cases.add(make("zero anchor row", type, zeroAnchor, x, false));
                double[][][] zeroCandidate = copy(x);
                zeroCandidate[kk - 1][2] = new double[DIM];
                cases.add(make("zero candidate row", type, a, zeroCandidate, false));
                double[][][] duplicate = copy(x);
                duplicate[0] = copy(a);
                cases.add(make("duplicate (candidate = anchor)", type, a, duplicate, false));
                double[][][] collinear = copy(x);
                collinear[0] = scaled(a, 3);
                if (kk > 1) {
                    collinear[1] = scaled(a, -0.5);
                }
                cases.add(make("collinear", type, a, collinear, false));
                double[][] inSpan = new double[ROWS][DIM];
                for (int r = 0; r < ROWS; r++) {
                    for (int c = 0; c < DIM; c++) {
                        for (int m = 0; m < kk; m++) {
                            inSpan[r][c] += (m + 1) * x[m][r][c];
                        }
                    }
                }
                cases.add(make("anchor in the candidates' span", type, inSpan, x, false));
                for (Object[] level : levels(type)) {
                    double norm = (double) level[1];
                    boolean refuse = (boolean) level[2];
                    cases.add(make(level[0] + ", all rows", type, normalised(a, norm), normalised(x, norm), refuse));
                    cases.add(make(level[0] + ", anchor only", type, normalised(a, norm), normalised(x, 1), refuse));
                    cases.add(make(level[0] + " anchor, unit candidates beside a duplicate", type, normalised(a, norm),
                            withDuplicate(normalised(x, 1), normalised(a, 1)), refuse));
                }
                Object[][] levels = levels(type);
                double big = (double) levels[0][1];
                double small = (double) levels[2][1];
                cases.add(make("mixed scales: huge anchor, tiny candidates", type, normalised(a, big), normalised(x, small),
                        false));
                cases.add(make("mixed scales: tiny anchor, huge candidates", type, normalised(a, small), normalised(x, big),
                        false));
                for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
                    double[][] badAnchor = copy(a);
                    badAnchor[0][1] = bad;
                    cases.add(make("anchor holds " + bad, type, badAnchor, x, true));
                    double[][][] badCandidate = copy(x);
                    badCandidate[kk - 1][0][3] = bad;
                    cases.add(make("candidate holds " + bad, type, a, badCandidate, true));
                }
                for (String layout : new String[] {"f order", "strided rows", "column slice"}) {
                    cases.add(new Case("random, " + layout, type, layout(a, type, layout), layouts(x, type, layout), false));
                    cases.add(new Case(levels[0][0] + ", " + layout, type, layout(normalised(a, big), type, layout),
                            layouts(normalised(x, big), type, layout), (boolean) levels[0][2]));
                }
            }
        }
        return cases;
    }

    private static Case make(String name, DataType type, double[][] a, double[][][] x, boolean refuse) {
        INDArray[] xs = new INDArray[x.length];
        for (int m = 0; m < x.length; m++) {
            xs[m] = Nd4j.create(x[m]).castTo(type);
        }
        return new Case(name, type, Nd4j.create(a).castTo(type), xs, refuse);
    }

    /** The values of {@code rows} in {@code type}, laid out as a view or in 'f' order. */
    private static INDArray layout(double[][] rows, DataType type, String layout) {
        INDArray c = Nd4j.create(rows).castTo(type);
        switch (layout) {
            case "f order":
                return c.dup('f');
            case "strided rows": {
                INDArray big = Nd4j.zeros(type, 2L * rows.length, DIM);
                INDArray view = big.get(NDArrayIndex.interval(0, 2, 2L * rows.length), NDArrayIndex.all());
                for (int r = 0; r < rows.length; r++) {
                    big.getRow(2L * r).assign(c.getRow(r));
                }
                return view;
            }
            default: {
                INDArray wide = Nd4j.zeros(type, rows.length, 2L * DIM);
                wide.get(NDArrayIndex.all(), NDArrayIndex.interval(DIM, 2 * DIM)).assign(c);
                return wide.get(NDArrayIndex.all(), NDArrayIndex.interval(DIM, 2 * DIM));
            }
        }
    }

    private static INDArray[] layouts(double[][][] x, DataType type, String layout) {
        INDArray[] xs = new INDArray[x.length];
        for (int m = 0; m < x.length; m++) {
            xs[m] = layout(x[m], type, layout);
        }
        return xs;
    }

    private static double[][] gaussian(Random random, int rows) {
        double[][] v = new double[rows][DIM];
        for (double[] row : v) {
            for (int c = 0; c < DIM; c++) {
                row[c] = random.nextGaussian();
            }
        }
        return v;
    }

    private static double[][] copy(double[][] v) {
        double[][] c = new double[v.length][];
        for (int r = 0; r < v.length; r++) {
            c[r] = v[r].clone();
        }
        return c;
    }

    private static double[][][] copy(double[][][] v) {
        double[][][] c = new double[v.length][][];
        for (int m = 0; m < v.length; m++) {
            c[m] = copy(v[m]);
        }
        return c;
    }

    private static double[][] scaled(double[][] v, double factor) {
        double[][] c = copy(v);
        for (double[] row : c) {
            for (int i = 0; i < row.length; i++) {
                row[i] *= factor;
            }
        }
        return c;
    }

    /** Rows rescaled to {@code norm} (entries of about {@code norm / 2}). */
    private static double[][] normalised(double[][] v, double norm) {
        double[][] c = copy(v);
        for (double[] row : c) {
            double n = 0;
            for (double e : row) {
                n += e * e;
            }
            n = Math.sqrt(n);
            for (int i = 0; i < row.length; i++) {
                row[i] = row[i] / n * norm;
            }
        }
        return c;
    }

    private static double[][][] normalised(double[][][] v, double norm) {
        double[][][] c = new double[v.length][][];
        for (int m = 0; m < v.length; m++) {
            c[m] = normalised(v[m], norm);
        }
        return c;
    }

    private static double[][][] withDuplicate(double[][][] x, double[][] a) {
        double[][][] c = copy(x);
        c[0] = copy(a);
        return c;
    }
}
