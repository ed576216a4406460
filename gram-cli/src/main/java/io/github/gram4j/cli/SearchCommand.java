package io.github.gram4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.github.gram4j.index.GramIndex;
import io.github.gram4j.index.IndexFormatException;
import io.github.gram4j.index.IndexSearch;
import io.github.gram4j.index.ResultFiles;
import io.github.gram4j.index.SearchResults;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code gram search}: the exact top-k items of every query in a {@link GramIndex}, streamed over the
 * index's chunks ({@link IndexSearch}). Writes three files next to {@code --out PREFIX}:
 * {@code PREFIX.items.npy} (int64, Q × k, global item indices), {@code PREFIX.volumes.npy} (the
 * index's float dtype, Q × k) and {@code PREFIX.tsv} (query, rank, item, id, volume; one line per
 * result, with a header line).
 */
@Command(name = "search", sortOptions = false,
        headerHeading = "%n",
        header = "Exact top-k retrieval of query embeddings against a GRAM index (lowest volume first).",
        description = "For each query row, the k items of lowest GRAM volume V(query, item's K vectors), ties broken"
                + " by the lower item index (the order of a stable sort of the full volume matrix). Streams the"
                + " index's memory-mapped chunks: memory does not grow with the gallery. Writes PREFIX.items.npy"
                + " (int64 Q x k item indices), PREFIX.volumes.npy (Q x k volumes in the index's dtype) and"
                + " PREFIX.tsv (query, rank, item, id, volume). Progress goes to stderr.",
        descriptionHeading = "%n",
        optionListHeading = "%nOptions:%n")
public final class SearchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--index", required = true, paramLabel = "DIR", description = "The index directory.")
    Path index;

    @Option(names = "--queries", required = true, paramLabel = "Q.npy",
            description = "Query embeddings, Q x d, float .npy (converted to the index's dtype).")
    Path queries;

    @Option(names = "--top-k", defaultValue = "10", paramLabel = "K",
            description = "Results per query (default ${DEFAULT-VALUE}; fewer if the index has fewer items).")
    int topK;

    @Option(names = "--out", required = true, paramLabel = "PREFIX",
            description = "Output prefix: writes PREFIX.items.npy, PREFIX.volumes.npy and PREFIX.tsv.")
    Path out;

    @Override
    public Integer call() throws IOException {
        if (topK < 1) {
            throw new ParameterException(spec.commandLine(), "--top-k must be at least 1, got " + topK);
        }
        for (Path p : ResultFiles.paths(out)) {
            checkOutputFile(p);
        }
        GramIndex opened = IndexCommand.open(index);
        INDArray q = NpyFiles.read(queries, queries.toString());
        IndexCommand.ProgressLine progress = new IndexCommand.ProgressLine(spec.commandLine().getErr(), "search");
        SearchResults results = search(opened, q, topK, queries.toString(), progress);
        try {
            ResultFiles.write(opened, results, out);
        } catch (IndexFormatException e) {
            throw new BadInputException("--index " + e.getMessage(), e);
        }
        return 0;
    }

    /** Runs the search, turning bad queries and corrupted chunks into bad input. */
    static SearchResults search(GramIndex index, INDArray queries, int k, String queriesName,
            IndexCommand.ProgressLine progress) throws IOException {
        try {
            return IndexSearch.search(index, queries, k,
                    java.util.stream.IntStream.range(0, index.chunkCount()).toArray(), progress::update);
        } catch (IndexFormatException e) {
            throw new BadInputException("--index " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new BadInputException("--queries " + queriesName + ": " + e.getMessage(), e);
        }
    }

    private void checkOutputFile(Path p) {
        Path target = OutputFile.checkTarget(p, "--out " + p, java.util.List.of(queries));
        try {
            if (Files.exists(target) && (Files.isSameFile(target, queries)
                    || target.toRealPath().startsWith(index.toRealPath()))) {
                throw new BadInputException("--out " + p + ": is an input (the queries or a file of the index);"
                        + " choose another prefix");
            }
            if (Files.isDirectory(index) && target.toAbsolutePath().getParent().toRealPath().equals(index.toRealPath())) {
                throw new BadInputException("--out " + p + ": must not be written into the index directory");
            }
        } catch (IOException e) {
            throw new BadInputException("--out " + p + ": " + e.getMessage(), e);
        }
    }

}
