package io.github.gram4j.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Conditions;

/**
 * An anchor file and its candidate files, read with {@link NpyFiles} in one dtype: {@code --dtype}
 * if given (every file cast to it), else the anchor's, which every other file must then share.
 * The one rule for every command: files of mixed dtypes are refused unless {@code --dtype} says
 * which one to compute in.
 *
 * @param anchorName the anchor file as given, for messages
 * @param anchor {@code B1 × d}
 * @param names the candidate files as given
 * @param candidates {@code B2 × d} each
 */
record EmbeddingFiles(String anchorName, INDArray anchor, List<String> names, List<INDArray> candidates) {

    /**
     * The checked headers of an anchor file and its candidate files, before any payload is read:
     * enough to estimate the memory a command will need.
     *
     * @param files the anchor file, then the candidate files
     * @param headers their headers, same order
     * @param dataType the dtype the arrays will have ({@code --dtype}, else the anchor's)
     */
    record Headers(List<Path> files, List<NpyFiles.Header> headers, DataType dataType) {

        /** Rows of the anchor file. */
        long anchorRows() {
            return headers.get(0).rows();
        }

        /** Rows of the first candidate file. */
        long candidateRows() {
            return headers.get(1).rows();
        }

        /** Columns of the anchor file. */
        long dim() {
            return headers.get(0).cols();
        }

        /** Bytes per number in the computation dtype. */
        int itemSize() {
            return dataType.width();
        }

        /** Numbers in all the files. */
        double elements() {
            return headers.stream().mapToDouble(h -> (double) h.rows() * h.cols()).sum();
        }
    }

    /**
     * Reads and checks the headers of all files.
     *
     * @param dtype {@code --dtype}, or {@code null}
     * @throws BadInputException naming the file: unreadable, not a 2-D float .npy, or of another
     *     dtype than the anchor without {@code --dtype}
     */
    static Headers headers(Path anchorFile, List<Path> candidateFiles, DataType dtype) {
        List<Path> files = new ArrayList<>();
        files.add(anchorFile);
        files.addAll(candidateFiles);
        List<NpyFiles.Header> headers = new ArrayList<>();
        for (Path p : files) {
            NpyFiles.Header h = NpyFiles.readHeader(p, p.toString());
            if (dtype == null && !headers.isEmpty() && h.dataType() != headers.get(0).dataType()) {
                throw new BadInputException(p + " is " + npyName(h.dataType()) + " but the anchor " + anchorFile
                        + " is " + npyName(headers.get(0).dataType()) + "; all inputs must share one dtype (or give"
                        + " --dtype float32|float64 to cast them)");
            }
            headers.add(h);
        }
        return new Headers(List.copyOf(files), List.copyOf(headers), dtype != null ? dtype : headers.get(0).dataType());
    }

    /**
     * Reads the payloads of checked files, cast to {@code headers.dataType()}.
     *
     * @throws BadInputException naming the file: unreadable, or beyond the float32 range for
     *     {@code --dtype float32}
     */
    static EmbeddingFiles read(Headers headers) {
        List<String> names = new ArrayList<>();
        List<INDArray> arrays = new ArrayList<>();
        for (int i = 0; i < headers.files().size(); i++) {
            String name = headers.files().get(i).toString();
            INDArray x = NpyFiles.readPayload(headers.files().get(i), name, headers.headers().get(i));
            names.add(name);
            arrays.add(cast(x, name, headers.dataType()));
        }
        return new EmbeddingFiles(names.get(0), arrays.get(0), List.copyOf(names.subList(1, names.size())),
                List.copyOf(arrays.subList(1, arrays.size())));
    }

    /** {@link #headers} then {@link #read(Headers)}. */
    static EmbeddingFiles read(Path anchorFile, List<Path> candidateFiles, DataType dtype) {
        return read(headers(anchorFile, candidateFiles, dtype));
    }

    /** Casts to {@code dtype}; a float64 value beyond the float32 range is an error. */
    private static INDArray cast(INDArray x, String name, DataType dtype) {
        if (x.dataType() == dtype) {
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
}
