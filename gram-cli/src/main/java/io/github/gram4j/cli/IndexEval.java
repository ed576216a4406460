package io.github.gram4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;

import io.github.gram4j.index.GramIndex;
import io.github.gram4j.index.IndexFormatException;
import io.github.gram4j.index.StreamedRetrieval;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.ParameterException;

/**
 * {@code gram eval --index DIR --anchor Q.npy [--anchor-ids q.txt]}: the retrieval metrics of the
 * queries against a whole index, streamed ({@link StreamedRetrieval}), printed as the same JSON as
 * {@code gram eval}.
 *
 * <p>Positives: query {@code i} and item {@code j} are positive when their ids are equal; the item
 * ids are the index's. Without {@code --anchor-ids}, query {@code i} takes the id of item {@code i}
 * (the query and item counts must then be equal). {@code candidate_to_anchor} ranks, for every item
 * whose id has a query, the best of its queries among all queries; items without a query are only
 * negatives.
 */
final class IndexEval {

    private IndexEval() {
    }

    static int run(EvalCommand c) throws IOException {
        if (c.files.hasInputs()) {
            throw new ParameterException(c.spec.commandLine(), "give --inputs or --index, not both");
        }
        if (c.candidateIds != null) {
            throw new ParameterException(c.spec.commandLine(),
                    "--candidate-ids does not apply to --index: the index stores its items' ids");
        }
        if (c.score != EvalCommand.Score.VOLUME) {
            throw new ParameterException(c.spec.commandLine(), "--index ranks by GRAM volume; --score " + c.score + " needs"
                    + " --inputs");
        }
        GramIndex index = IndexCommand.open(c.index);
        String anchorName = c.files.anchor().toString();
        INDArray queries = NpyFiles.read(c.files.anchor(), anchorName);
        long q = queries.rank() == 2 ? queries.size(0) : -1;
        List<String> queryIds;
        if (c.anchorIds != null) {
            queryIds = EvalCommand.readIds(c.anchorIds, "--anchor-ids");
            if (queryIds.size() != q) {
                throw new BadInputException("--anchor-ids " + c.anchorIds + " has " + queryIds.size()
                        + " ids (lines) but the anchor " + anchorName + " has " + q + " rows; need one id per row");
            }
        } else {
            if (q != index.size()) {
                throw new BadInputException("the anchor " + anchorName + " has " + q + " rows but the index " + c.index
                        + " has " + index.size() + " items: without --anchor-ids query i pairs with item i, which"
                        + " needs equal counts; pass --anchor-ids");
            }
            try {
                queryIds = index.allIds();
            } catch (IndexFormatException e) {
                throw new BadInputException("--index " + e.getMessage(), e);
            }
        }
        IndexCommand.ProgressLine progress = new IndexCommand.ProgressLine(c.spec.commandLine().getErr(), "eval");
        StreamedRetrieval.Ranks ranks;
        try {
            ranks = StreamedRetrieval.evaluate(index, queries, queryIds, progress::update);
        } catch (IndexFormatException e) {
            throw new BadInputException("--index " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new BadInputException("--anchor " + anchorName + ": " + e.getMessage()
                    + (c.anchorIds != null ? " (ids from " + c.anchorIds + ")" : ""), e);
        }
        PrintWriter out = c.spec.commandLine().getOut();
        out.println(EvalCommand.json(ranks.metrics()));
        out.flush();
        return 0;
    }
}
