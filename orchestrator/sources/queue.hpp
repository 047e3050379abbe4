#pragma once
// The patch queue: experiments/*.patch in name order (byte order, so 02- sorts before 10-).

#include <filesystem>
#include <vector>

namespace ar::sources {

// The queue's patch files, sorted by name; empty when the folder does not exist.
std::vector<std::filesystem::path> queue_files(const std::filesystem::path& dir);

} // namespace ar::sources
