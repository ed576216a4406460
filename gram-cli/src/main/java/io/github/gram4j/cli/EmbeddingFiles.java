package io.github.gram4j.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Conditions;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * An anchor file and its candidate files, read with {@link NpyFiles} in one dtype: {@code --dtype}
 * if given (every file cast to it), else the anchor's, which every other file must then share.
 *
 * @param anchorName the anchor file as given, for messages
 * @param anchor {@code B1 × d}
 * @param names the candidate files as given
 * @param candidates {@code B2 × d} each
 */
record EmbeddingFiles(String anchorName, INDArray anchor, List<String> names, List<INDArray> candidates) {

    /**
     * @param dtype {@code --dtype}, or {@code null}
     * @throws BadInputException naming the file: unreadable, not a float .npy, or of another dtype
     *     than the anchor without {@code --dtype}, or beyond the float32 range for
     *     {@code --dtype float32}
     */
    static EmbeddingFiles read(Path anchorFile, List<Path> candidateFiles, DataType dtype) {
        String anchorName = anchorFile.toString();
        INDArray anchor = cast(NpyFiles.read(anchorFile, anchorName), anchorName, dtype);
        List<String> names = new ArrayList<>(candidateFiles.size());
        List<INDArray> xs = new ArrayList<>(candidateFiles.size());
        for (Path p : candidateFiles) {
            String name = p.toString();
            INDArray x = NpyFiles.read(p, name);
            if (dtype == null && x.dataType() != anchor.dataType()) {
                throw new BadInputException(name + " is " + npyName(x.dataType()) + " but the anchor " + anchorName
                        + " is " + npyName(anchor.dataType()) + "; all inputs must share one dtype (or give --dtype"
                        + " float32|float64 to cast them)");
            }
            names.add(name);
            xs.add(cast(x, name, dtype));
        }
        return new EmbeddingFiles(anchorName, anchor, List.copyOf(names), List.copyOf(xs));
    }

    /**
     * Reads the files in their own dtypes; if they mix float32 and float64, promotes all to float64
     * (exact), for commands whose result needs no common output dtype (rankings).
     *
     * @throws BadInputException naming the file: unreadable or not a float .npy
     */
    static EmbeddingFiles readPromoting(Path anchorFile, List<Path> candidateFiles) {
        String anchorName = anchorFile.toString();
        INDArray anchor = NpyFiles.read(anchorFile, anchorName);
        List<String> names = new ArrayList<>(candidateFiles.size());
        List<INDArray> xs = new ArrayList<>(candidateFiles.size());
        boolean mixed = false;
        for (Path p : candidateFiles) {
            INDArray x = NpyFiles.read(p, p.toString());
            mixed |= x.dataType() != anchor.dataType();
            names.add(p.toString());
            xs.add(x);
        }
        if (mixed) {
            anchor = anchor.castTo(DataType.DOUBLE);
            xs.replaceAll(x -> x.castTo(DataType.DOUBLE));
        }
        return new EmbeddingFiles(anchorName, anchor, List.copyOf(names), List.copyOf(xs));
    }

    /** Casts to {@code dtype} if given; a float64 value beyond the float32 range is an error. */
    private static INDArray cast(INDArray x, String name, DataType dtype) {
        if (dtype == null || x.dataType() == dtype) {
            return x;
        }
        INDArray y = x.castTo(dtype);
        if (BooleanIndexing.or(y, Conditions.notFinite()) && !BooleanIndexing.or(x, Conditions.notFinite())) {
            throw new BadInputException(name + ": values beyond the float32 range (max |x| = "
                    + x.amaxNumber() + ") cannot be cast to --dtype float32");
        }
        return y;
    }

    static String npyName(DataType t) {
        return t == DataType.DOUBLE ? "float64" : t == DataType.FLOAT ? "float32" : t.name();
    }

    /** {@code float32} | {@code float64}, any case. */
    static final class DtypeConverter implements ITypeConverter<DataType> {
        @Override
        public DataType convert(String value) {
            switch (value.strip().toLowerCase(Locale.ROOT)) {
                case "float32":
                    return DataType.FLOAT;
                case "float64":
                    return DataType.DOUBLE;
                default:
                    throw new TypeConversionException("expected float32 or float64, got '" + value + "'");
            }
        }
    }
}
