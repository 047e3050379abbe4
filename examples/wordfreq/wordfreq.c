/* wordfreq: counts word frequencies in a text file and prints the 20 most frequent words.
 *
 * usage: wordfreq FILE
 *
 * A word is a run of ASCII letters, lowercased; every other byte separates words, and letters
 * past the 63rd of a word are dropped. Output: one "count word" line per word, most frequent
 * first, ties in alphabetical order. At exit the peak resident set size goes to stderr as a
 * METRIC line.
 *
 * This is the demo workload that the autoresearch session in the repository root tunes: it is
 * written plainly rather than fast, and the patches in experiments/ try to improve it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Size of the hash table. It is fixed: the table never grows. */
#define NBUCKETS 16384

#define MAX_WORD 63
#define TOP_N 20

struct node {
    struct node *next;
    long count;
    char word[];
};

struct table {
    struct node *buckets[NBUCKETS];
    size_t distinct;
};

static void *xmalloc(size_t size)
{
    void *p = malloc(size);
    if (p == NULL) {
        fprintf(stderr, "wordfreq: out of memory\n");
        exit(1);
    }
    return p;
}

/* The bucket of a word: the sum of its bytes. */
static size_t hash_word(const char *word)
{
    size_t h = 0;
    while (*word != '\0')
        h += (unsigned char)*word++;
    return h % NBUCKETS;
}

/* Counts one occurrence of word, adding it to the table the first time it is seen. */
static void add_word(struct table *t, const char *word)
{
    struct node **link = &t->buckets[hash_word(word)];
    for (; *link != NULL; link = &(*link)->next) {
        if (strcmp((*link)->word, word) == 0) {
            (*link)->count++;
            return;
        }
    }
    struct node *n = xmalloc(sizeof *n + strlen(word) + 1);
    strcpy(n->word, word);
    n->count = 1;
    n->next = NULL;
    *link = n;
    t->distinct++;
}

/* The lowercase form of a letter, or 0 for a byte that separates words. */
static int word_char(int c)
{
    if (isalpha(c))
        return tolower(c);
    return 0;
}

/* Reads f to the end, one byte at a time, and counts every word in it. */
static void count_words(FILE *f, struct table *t)
{
    char word[MAX_WORD + 1] = "";
    int c;
    while ((c = fgetc(f)) != EOF) {
        int lower = word_char(c);
        if (lower != 0) {
            size_t len = strlen(word);
            if (len < MAX_WORD) {
                word[len] = (char)lower;
                word[len + 1] = '\0';
            }
        } else if (word[0] != '\0') {
            add_word(t, word);
            word[0] = '\0';
        }
    }
    if (word[0] != '\0')
        add_word(t, word);
}

/* qsort order: higher count first, then alphabetical. */
static int by_count_then_word(const void *a, const void *b)
{
    const struct node *x = *(const struct node *const *)a;
    const struct node *y = *(const struct node *const *)b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->word, y->word);
}

/* Prints the TOP_N most frequent words of the table. */
static void print_top(const struct table *t)
{
    struct node **all = xmalloc((t->distinct + 1) * sizeof *all);
    size_t count = 0;
    for (size_t b = 0; b < NBUCKETS; b++)
        for (struct node *n = t->buckets[b]; n != NULL; n = n->next)
            all[count++] = n;
    qsort(all, count, sizeof *all, by_count_then_word);
    for (size_t i = 0; i < count && i < TOP_N; i++)
        printf("%7ld %s\n", all[i]->count, all[i]->word);
    free(all);
}

/* The METRIC line autoresearch reads: peak resident set size in KiB. */
static void report_peak_rss(void)
{
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) == 0)
        fprintf(stderr, "METRIC peak_rss_kb=%ld\n", usage.ru_maxrss);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: wordfreq FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }
    static struct table table;
    count_words(f, &table);
    if (ferror(f)) {
        perror(argv[1]);
        fclose(f);
        return 1;
    }
    fclose(f);
    print_top(&table);
    if (fflush(stdout) != 0)
        return 1;
    report_peak_rss();
    return 0;
}
