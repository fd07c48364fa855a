/* onair — replays a fuzz target without a fuzzing engine, for CI: every file
 * named on the command line (or in a named directory), the target's built-in
 * seeds, and a fixed number of deterministic mutations of them. Built with
 * clang's -fsanitize=fuzzer instead, the same target runs under libFuzzer.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Valid inputs the target builds itself, so mutations reach deep states. */
std::vector<std::vector<uint8_t>> fuzz_seeds();

static void run(const std::vector<uint8_t> &input) {
  LLVMFuzzerTestOneInput(input.data(), input.size());
}

static std::vector<uint8_t> mutate(const std::vector<uint8_t> &seed, std::mt19937 &random) {
  std::vector<uint8_t> out = seed;
  int edits = 1 + random() % 8;
  for (int i = 0; i < edits; i++) {
    switch (random() % 5) {
      case 0: /* flip a bit */
        if (!out.empty()) out[random() % out.size()] ^= uint8_t(1u << (random() % 8));
        break;
      case 1: /* set a byte to an edge value */
        if (!out.empty())
          out[random() % out.size()] = uint8_t((const uint8_t[]){0, 1, 0x7f, 0x80, 0xff}[random() % 5]);
        break;
      case 2: /* truncate */
        if (!out.empty()) out.resize(random() % out.size());
        break;
      case 3: /* insert random bytes */
      {
        size_t at = out.empty() ? 0 : random() % out.size();
        size_t n = 1 + random() % 16;
        for (size_t k = 0; k < n; k++) out.insert(out.begin() + at, uint8_t(random()));
        break;
      }
      case 4: /* duplicate a slice */
        if (out.size() > 2) {
          size_t from = random() % out.size();
          size_t n = std::min<size_t>(out.size() - from, 1 + random() % 64);
          std::vector<uint8_t> slice(out.begin() + from, out.begin() + from + n);
          out.insert(out.begin() + random() % out.size(), slice.begin(), slice.end());
        }
        break;
    }
  }
  return out;
}

int main(int argc, char **argv) {
  size_t files = 0;
  for (int i = 1; i < argc; i++) {
    std::filesystem::path path(argv[i]);
    std::vector<std::filesystem::path> paths;
    if (std::filesystem::is_directory(path)) {
      for (const auto &entry : std::filesystem::directory_iterator(path))
        if (entry.is_regular_file()) paths.push_back(entry.path());
    } else {
      paths.push_back(path);
    }
    for (const auto &p : paths) {
      std::ifstream in(p, std::ios::binary);
      run(std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {}));
      files++;
    }
  }

  std::mt19937 random(20261121);
  std::vector<std::vector<uint8_t>> seeds = fuzz_seeds();
  size_t mutations = 0;
  for (const auto &seed : seeds) {
    run(seed);
    for (int i = 0; i < 4000; i++, mutations++) run(mutate(seed, random));
  }
  for (int i = 0; i < 4000; i++, mutations++) {
    std::vector<uint8_t> noise(random() % 2048);
    for (auto &b : noise) b = uint8_t(random());
    run(noise);
  }
  std::printf("replayed %zu files, %zu seeds, %zu mutations: no crash\n", files, seeds.size(), mutations);
  return 0;
}
