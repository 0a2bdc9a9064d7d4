// jansson's own parsing rate on a JSONL file: the file read into memory first, then every line
// through json_loadb with the flags of Upweight's reader (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY),
// on one thread; best of 3. The reader's fast paths (Sources/UpweightData/FastLineScanner.swift)
// exist because of this rate.
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: jansson FILE.jsonl\n"); return 64; }
    FILE *file = fopen(argv[1], "rb");
    if (!file) { perror(argv[1]); return 66; }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *bytes = malloc(size);
    if (fread(bytes, 1, size, file) != (size_t)size) { perror(argv[1]); return 74; }
    fclose(file);
    double best = 1e30;
    long lines = 0;
    for (int run = 0; run < 3; run++) {
        struct timespec start, end;
        clock_gettime(CLOCK_MONOTONIC, &start);
        lines = 0;
        for (char *line = bytes, *end_of_file = bytes + size; line < end_of_file;) {
            char *newline = memchr(line, '\n', end_of_file - line);
            if (!newline) newline = end_of_file;
            json_error_t error;
            json_t *value = json_loadb(line, newline - line, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &error);
            if (!value) { fprintf(stderr, "%s:%ld: %s\n", argv[1], lines + 1, error.text); return 65; }
            json_decref(value);
            lines++;
            line = newline + 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &end);
        double seconds = (end.tv_sec - start.tv_sec) + 1e-9 * (end.tv_nsec - start.tv_nsec);
        if (seconds < best) best = seconds;
    }
    printf("%.1f MB/s (%ld lines, %.0f MB)\n", size / best / 1e6, lines, size / 1e6);
    free(bytes);
}
