/**
 * The {@code gram} command line ({@code bin/gram}): {@link io.github.gram4j.cli.GramCli} is the
 * top command, one class per subcommand ({@link io.github.gram4j.cli.VolumeCommand}, …).
 *
 * <p>Exit codes: 0 success, 1 internal error, 2 bad input or usage. Every failure prints exactly one
 * line starting with {@code error: } on stderr; stdout carries only requested output (help,
 * version).
 *
 * <p>Building blocks for commands: {@link io.github.gram4j.cli.EmbeddingOptions} (the shared
 * {@code --anchor}/{@code --inputs}/{@code --dtype} options as a picocli mixin),
 * {@link io.github.gram4j.cli.OutputFile} and {@link io.github.gram4j.cli.OutputDirectory} (every
 * output: checked and reserved before the work, written atomically after it),
 * {@code NpyFiles} (the Java {@code .npy} reader and writer) and {@code MemoryCheck} (the up-front
 * memory estimate).
 */
package io.github.gram4j.cli;
