// expand_images and plan_image_jobs (see image_list.h). Spec: std::filesystem; name order is byte
// order of the full paths, as `sorted(os.listdir())` gives.
#include "app/image_list.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

#include "common/error.h"
#include "common/mapped_file.h"
#include "common/text.h"

namespace cnnscope::app {

namespace fs = std::filesystem;

bool is_input_file(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".npy" || ext == ".bmp" ||
         ext == ".gif" || ext == ".webp" || ext == ".tif" || ext == ".tiff";
}

std::vector<std::string> expand_images(const std::vector<std::string>& given) {
  std::vector<std::string> files;
  for (const std::string& g : given) {
    std::error_code ec;
    if (!fs::is_directory(g, ec)) {
      require_regular_file(g);
      files.push_back(g);
      continue;
    }
    std::vector<std::string> found;
    for (const fs::directory_entry& e : fs::directory_iterator(g, ec))
      if (e.is_regular_file() && is_input_file(e.path().string()))
        found.push_back(e.path().string());
    if (ec) fail(g, "cannot list the folder: " + ec.message());
    if (found.empty())
      fail(g,
           "folder holds no image (.jpg, .jpeg, .png, .bmp, .gif, .webp, .tif, .tiff) or .npy "
           "files");
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

std::vector<std::pair<size_t, size_t>> same_shape_batches(
    const std::vector<std::vector<int64_t>>& shapes) {
  std::vector<std::pair<size_t, size_t>> batches;
  for (size_t begin = 0; begin < shapes.size();) {
    size_t end = begin + 1;
    while (end < shapes.size() && shapes[end] == shapes[begin]) ++end;
    batches.emplace_back(begin, end);
    begin = end;
  }
  return batches;
}

std::vector<ImageJob> plan_image_jobs(const std::vector<std::string>& files,
                                      const std::string& out) {
  std::vector<ImageJob> jobs;
  std::map<std::string, int> seen;
  for (const std::string& f : files) {
    const fs::path p(f);
    ImageJob job{f, p.filename().string(), out};
    if (files.size() > 1) {
      std::string stem = p.stem().string();
      if (stem.empty()) stem = "image";
      const int n = ++seen[stem];
      if (n > 1) stem += "-" + std::to_string(n);
      job.out_dir = (fs::path(out) / stem).string();
    }
    jobs.push_back(std::move(job));
  }
  return jobs;
}

NpyPlan plan_npy_outputs(const std::vector<std::string>& images, const std::string& out) {
  if (ends_with(out, ".npy")) {
    if (images.size() == 1) return {"", {out}};
    fail(out, "one output file for " + std::to_string(images.size()) + " images",
         "give an output folder for several images", {{"out", "DIR"}});
  }
  NpyPlan plan{out, {}};
  std::vector<std::string>& files = plan.files;
  for (const std::string& image : images) {
    files.push_back((fs::path(out) / fs::path(image).stem()).string() + ".npy");
    for (size_t i = 0; i + 1 < files.size(); ++i)
      if (files[i] == files.back())
        fail(image, "two inputs would both write " + files.back(), "rename one of them");
  }
  return plan;
}

}  // namespace cnnscope::app
