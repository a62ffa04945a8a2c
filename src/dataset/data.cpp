// Training data (dataset/data.h): ImageFolder trees walked as torchvision 0.29's
// datasets.folder.make_dataset walks them, MNIST IDX files as yann.lecun.com's format describes
// them (big-endian magic 0x0803 images / 0x0801 labels), and the seed's augmentation as
// torchvision's RandomResizedCrop.get_params and RandomHorizontalFlip define it. Leaves out:
// gzip-compressed IDX files, torchvision's is_valid_file hook.
#include "dataset/data.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <utility>

#include "common/error.h"
#include "common/mapped_file.h"
#include "common/parallel.h"
#include "common/text.h"
#include "image/decode.h"
#include "image/transforms.h"

namespace cnnscope::dataset {
namespace {

namespace fs = std::filesystem;

// torchvision.datasets.folder.IMG_EXTENSIONS, compared lower-cased.
const std::vector<std::string> kExtensions = {".jpg", ".jpeg", ".png",  ".ppm", ".bmp",
                                              ".pgm", ".tif",  ".tiff", ".webp"};

bool allowed_extension(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::any_of(kExtensions.begin(), kExtensions.end(),
                     [&](const std::string& e) { return ends_with(lower, e); });
}

// find_classes: the sorted names of the sub-folders.
std::vector<std::string> find_classes(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    fail(dir, "not a folder",
         "the data must be an ImageFolder tree or a folder of MNIST IDX files");
  std::vector<std::string> classes;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_directory(ec)) classes.push_back(entry.path().filename().string());
  if (ec) fail(dir, "cannot list the folder: " + ec.message());
  std::sort(classes.begin(), classes.end());
  if (classes.empty())
    fail(dir, "no class folders", "an ImageFolder tree has one sub-folder per class");
  return classes;
}

// make_dataset for one class: sorted(os.walk(class_dir, followlinks=True)), files sorted in each.
std::vector<std::string> class_files(const std::string& class_dir) {
  std::vector<std::pair<std::string, std::string>> found;  // (folder, file name)
  std::error_code ec;
  const auto options = fs::directory_options::follow_directory_symlink;
  for (auto it = fs::recursive_directory_iterator(class_dir, options, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() > 32) fail(class_dir, "folders nested more than 32 deep");
    const std::string name = it->path().filename().string();
    if (!it->is_directory(ec) && allowed_extension(name))
      found.emplace_back(it->path().parent_path().string(), name);
  }
  if (ec) fail(class_dir, "cannot list the folder: " + ec.message());
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  for (const auto& [folder, name] : found) paths.push_back(folder + "/" + name);
  if (paths.empty())
    fail(class_dir, "empty class folder: no image with one of torchvision's extensions",
         "remove the folder or add images (.jpg .jpeg .png .ppm .bmp .pgm .tif .tiff .webp)");
  return paths;
}

Split image_folder(const std::string& dir, const std::vector<std::string>& classes) {
  Split split;
  for (size_t c = 0; c < classes.size(); ++c)
    for (std::string& path : class_files(dir + "/" + classes[c])) {
      split.paths.push_back(std::move(path));
      split.labels.push_back(static_cast<int64_t>(c));
    }
  return split;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  require_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open the file");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  return bytes;
}

uint32_t big_endian(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) |
         uint32_t{b[at + 3]};
}

// An IDX pair: images [N, H, W] uint8 and labels [N].
Split idx_split(const std::string& images_path, const std::string& labels_path) {
  const std::vector<uint8_t> images = read_bytes(images_path);
  if (images.size() < 16 || big_endian(images, 0) != 0x803)
    fail(images_path, "not an IDX image file (expected magic 0x00000803)",
         "an uncompressed MNIST file; gunzip a .gz first");
  const int64_t n = big_endian(images, 4), h = big_endian(images, 8), w = big_endian(images, 12);
  if (static_cast<uint64_t>(n) * h * w + 16 != images.size())
    fail(images_path, "IDX size mismatch: header says " + std::to_string(n) + "x" +
                          std::to_string(h) + "x" + std::to_string(w) + ", file has " +
                          std::to_string(images.size() - 16) + " bytes of pixels");
  const std::vector<uint8_t> labels = read_bytes(labels_path);
  if (labels.size() < 8 || big_endian(labels, 0) != 0x801 ||
      big_endian(labels, 4) != static_cast<uint64_t>(n) || labels.size() != 8 + size_t(n))
    fail(labels_path,
         "not an IDX label file for " + std::to_string(n) + " images (magic 0x00000801)");
  Split split;
  split.pictures = at::empty({n, h, w}, at::kByte);  // [N, H, W]
  std::memcpy(split.pictures.data_ptr(), images.data() + 16, images.size() - 16);
  split.labels.assign(labels.begin() + 8, labels.end());
  return split;
}

bool exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

}  // namespace

Dataset load_dataset(const std::string& dir, const DataOptions& options) {
  Dataset data;
  data.root = dir;
  if (exists(dir + "/train-images-idx3-ubyte")) {
    data.kind = "idx";
    data.train = idx_split(dir + "/train-images-idx3-ubyte", dir + "/train-labels-idx1-ubyte");
    data.val = idx_split(dir + "/t10k-images-idx3-ubyte", dir + "/t10k-labels-idx1-ubyte");
    int64_t top = 0;
    for (int64_t l : data.train.labels) top = std::max(top, l);
    require_regular_file(dir + "/classes.txt");
    std::ifstream names(dir + "/classes.txt");
    for (std::string line; std::getline(names, line);)
      if (!line.empty()) data.classes.push_back(line);
    if (data.classes.empty())
      for (int64_t c = 0; c <= top; ++c) data.classes.push_back(std::to_string(c));
    for (int64_t l : data.val.labels)
      if (l > top || top >= static_cast<int64_t>(data.classes.size()))
        fail(dir, "labels beyond the " + std::to_string(data.classes.size()) + " classes",
             "classes.txt lists one class name a line");
    return data;
  }
  data.kind = "imagefolder";
  if (fs::is_directory(dir + "/train") && fs::is_directory(dir + "/val")) {
    data.classes = find_classes(dir + "/train");
    const std::vector<std::string> val_classes = find_classes(dir + "/val");
    for (const std::string& c : data.classes)
      if (!std::binary_search(val_classes.begin(), val_classes.end(), c))
        fail(dir + "/val", "class '" + c + "' of train is missing from val",
             "val needs the same class folders as train");
    for (const std::string& c : val_classes)
      if (!std::binary_search(data.classes.begin(), data.classes.end(), c))
        fail(dir + "/train", "class '" + c + "' of val is missing from train");
    data.train = image_folder(dir + "/train", data.classes);
    data.val = image_folder(dir + "/val", data.classes);
    return data;
  }
  if (!(options.val_split > 0 && options.val_split < 1))
    fail(dir, "the validation split must be in (0, 1), got " + std::to_string(options.val_split));
  data.classes = find_classes(dir);
  const Split all = image_folder(dir, data.classes);
  // Per class: its files shuffled with the seed, the first round(k * val_split) (at least 1, at
  // most k - 1) to val.
  std::mt19937_64 rng(options.seed);
  std::map<int64_t, std::vector<int64_t>> by_class;
  for (int64_t i = 0; i < all.size(); ++i) by_class[all.labels[i]].push_back(i);
  std::vector<bool> to_val(all.size(), false);
  for (auto& [label, members] : by_class) {
    const int64_t k = static_cast<int64_t>(members.size());
    if (k < 2)
      fail(dir + "/" + data.classes[label], "a class needs 2 images or more to split",
           "add images or give DIR/train and DIR/val");
    std::shuffle(members.begin(), members.end(), rng);
    const int64_t nval = std::clamp<int64_t>(std::llround(k * options.val_split), 1, k - 1);
    for (int64_t j = 0; j < nval; ++j) to_val[members[j]] = true;
  }
  for (int64_t i = 0; i < all.size(); ++i) {
    Split& s = to_val[i] ? data.val : data.train;
    s.paths.push_back(all.paths[i]);
    s.labels.push_back(all.labels[i]);
  }
  return data;
}

namespace {

// torchvision's RandomResizedCrop.get_params(img, scale=(0.08, 1), ratio=(3/4, 4/3)): (top, left,
// height, width).
std::array<int64_t, 4> random_crop_box(int64_t height, int64_t width, std::mt19937_64& rng) {
  const double area = static_cast<double>(height * width);
  const double log_lo = std::log(3.0 / 4.0), log_hi = std::log(4.0 / 3.0);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * std::uniform_real_distribution<double>(0.08, 1.0)(rng);
    const double aspect = std::exp(std::uniform_real_distribution<double>(log_lo, log_hi)(rng));
    const auto w = static_cast<int64_t>(std::llround(std::sqrt(target * aspect)));
    const auto h = static_cast<int64_t>(std::llround(std::sqrt(target / aspect)));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const int64_t top = std::uniform_int_distribution<int64_t>(0, height - h)(rng);
      const int64_t left = std::uniform_int_distribution<int64_t>(0, width - w)(rng);
      return {top, left, h, w};
    }
  }
  // Fallback: the whole image, cut to the nearest allowed aspect ratio, centered.
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  int64_t w = width, h = height;
  if (in_ratio < 3.0 / 4.0) {
    h = std::llround(static_cast<double>(w) / (3.0 / 4.0));
  } else if (in_ratio > 4.0 / 3.0) {
    w = std::llround(static_cast<double>(h) * (4.0 / 3.0));
  }
  return {(height - h) / 2, (width - w) / 2, h, w};
}

at::Tensor sample_rgb(const Split& split, int64_t index) {  // [H, W, 3] uint8
  if (split.pictures.defined())
    return split.pictures[index].unsqueeze(2).expand({-1, -1, 3}).contiguous();
  return decode_rgb(split.paths[index]);
}

}  // namespace

Batch make_batch(const Split& split, const std::vector<int64_t>& indices,
                 const PreprocessOptions& preprocess, const AugmentOptions& augment) {
  const size_t n = indices.size();
  std::vector<at::Tensor> inputs(n);  // each [C, H, W]
  std::vector<std::string> errors(n);
  for_each_parallel(n, [&](size_t k) {
    const int64_t index = indices[k];
    try {
      const at::Tensor rgb = sample_rgb(split, index);  // [H, W, 3]
      if (!augment.random) {
        inputs[k] = network_tensor(resize_and_crop(rgb, preprocess), preprocess);
        return;
      }
      std::seed_seq seq{augment.seed, static_cast<uint64_t>(augment.epoch),
                        static_cast<uint64_t>(index)};
      std::mt19937_64 rng(seq);
      const auto [top, left, h, w] = random_crop_box(rgb.size(0), rgb.size(1), rng);
      PreprocessOptions resize = preprocess;
      resize.resize_short = 0;
      resize.resize_height = resize.resize_width = augment.size;
      resize.crop_height = resize.crop_width = 0;
      resize.interpolation = Interpolation::kBilinear;
      at::Tensor picture =
          resize_and_crop(rgb.slice(0, top, top + h).slice(1, left, left + w).contiguous(),
                          resize);  // [size, size, 3]
      if (std::uniform_real_distribution<double>(0, 1)(rng) < 0.5)
        picture = picture.flip({1}).contiguous();
      inputs[k] = network_tensor(picture, preprocess);
    } catch (const Error& e) {
      errors[k] = e.what();
    }
  });
  Batch batch;
  std::vector<at::Tensor> kept;
  std::vector<int64_t> labels;
  for (size_t k = 0; k < n; ++k) {
    if (!errors[k].empty()) {
      batch.skipped.push_back(errors[k]);
      continue;
    }
    kept.push_back(inputs[k]);
    labels.push_back(split.labels[indices[k]]);
  }
  if (!kept.empty()) {
    batch.inputs = at::stack(kept);  // [B, C, H, W]
    batch.labels = at::tensor(labels, at::kLong);
  }
  return batch;
}

}  // namespace cnnscope::dataset
