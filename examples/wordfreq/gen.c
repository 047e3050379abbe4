/* gen: writes a deterministic pseudo-English corpus for wordfreq to stdout.
 *
 * usage: gen TOKENS VOCAB [SEED]
 *
 * The vocabulary is VOCAB distinct pseudo-words of 2 to 12 letters with English-like letter
 * frequencies. Word ranks follow a Zipf-like law, so a few words dominate and most are rare.
 * Sentences start with a capital, a few words are capitalized or shouted, and commas, digits,
 * apostrophes and line breaks separate words, so a tokenizer has real work to do. The same
 * arguments always give the same bytes: the PRNG is seeded and nothing uses the platform's rand().
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEN 12

static uint64_t rng_state;

/* splitmix64: small, fast, and identical everywhere. */
static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). The modulo bias is irrelevant at these sizes. */
static unsigned below(unsigned n)
{
    return (unsigned)(next_u64() % n);
}

/* Uniform in [0, 1). */
static double unit(void)
{
    return (double)(next_u64() >> 11) * (1.0 / 9007199254740992.0);
}

static unsigned long hash_str(const char *s)
{
    unsigned long h = 5381;
    while (*s != '\0')
        h = h * 33 + (unsigned char)*s++;
    return h;
}

/* Letters weighted roughly like English text, so the words look plausible. */
static const char k_letters[] = "eeeeeeeeeeeetttttttttaaaaaaaaooooooooiiiiiiinnnnnnnssssss"
                                "hhhhhhrrrrrrddddllllcccuuummwwffggyyppbbvkjxqz";

static void make_word(char *out)
{
    /* Lengths 2..12, peaking around 5-7. */
    int len = 2 + (int)below(4) + (int)below(4) + (int)below(4);
    if (below(8) == 0)
        len += (int)below(3);
    if (len > MAX_LEN)
        len = MAX_LEN;
    for (int i = 0; i < len; i++)
        out[i] = k_letters[below((unsigned)(sizeof k_letters - 1))];
    out[len] = '\0';
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: gen TOKENS VOCAB [SEED]\n");
        return 2;
    }
    long tokens = atol(argv[1]);
    long vocab = atol(argv[2]);
    rng_state = argc == 4 ? strtoull(argv[3], NULL, 10) : 20240611;
    if (tokens <= 0 || vocab <= 0) {
        fprintf(stderr, "gen: TOKENS and VOCAB must be positive\n");
        return 2;
    }

    /* Distinct words, deduplicated through an open-addressing set of indexes. */
    char (*words)[MAX_LEN + 1] = malloc((size_t)vocab * sizeof *words);
    size_t slots = 1;
    while (slots < (size_t)vocab * 2)
        slots *= 2;
    long *set = malloc(slots * sizeof *set);
    double *cdf = malloc((size_t)vocab * sizeof *cdf);
    if (words == NULL || set == NULL || cdf == NULL) {
        fprintf(stderr, "gen: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < slots; i++)
        set[i] = -1;
    for (long w = 0; w < vocab;) {
        make_word(words[w]);
        size_t s = hash_str(words[w]) & (slots - 1);
        while (set[s] >= 0 && strcmp(words[set[s]], words[w]) != 0)
            s = (s + 1) & (slots - 1);
        if (set[s] < 0) {
            set[s] = w;
            w++;
        }
    }
    /* Zipf-like weights 1/(rank + 2.7)^1.07, sampled by binary search on the cumulative sum. */
    double total = 0;
    for (long r = 0; r < vocab; r++) {
        total += 1.0 / pow((double)r + 2.7, 1.07);
        cdf[r] = total;
    }

    int column = 0;
    int sentence_pos = 0;
    int sentence_len = 4 + (int)below(14);
    for (long t = 0; t < tokens; t++) {
        double u = unit() * total;
        long lo = 0, hi = vocab - 1;
        while (lo < hi) {
            long mid = (lo + hi) / 2;
            if (cdf[mid] < u)
                lo = mid + 1;
            else
                hi = mid;
        }
        char word[MAX_LEN + 8];
        strcpy(word, words[lo]);
        unsigned style = below(100);
        if (sentence_pos == 0 || style < 4)
            word[0] = (char)(word[0] - 'a' + 'A');
        else if (style == 4)
            for (char *p = word; *p != '\0'; p++)
                *p = (char)(*p - 'a' + 'A');
        else if (style == 5)
            strcat(word, "'s");

        size_t len = strlen(word);
        if (column + (int)len > 72) {
            fputc('\n', stdout);
            column = 0;
        } else if (column > 0) {
            fputc(' ', stdout);
            column++;
        }
        fputs(word, stdout);
        column += (int)len;

        if (below(200) == 0) {
            column += printf(" %u", 1 + below(2024));
        }
        sentence_pos++;
        if (sentence_pos == sentence_len) {
            fputc(below(10) == 0 ? '?' : '.', stdout);
            column++;
            sentence_pos = 0;
            sentence_len = 4 + (int)below(14);
            if (below(12) == 0) {
                fputs("\n\n", stdout);
                column = 0;
            }
        } else if (below(9) == 0) {
            fputc(',', stdout);
            column++;
        }
    }
    fputc('\n', stdout);
    free(words);
    free(set);
    free(cdf);
    return ferror(stdout) ? 1 : 0;
}
