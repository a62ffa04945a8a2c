// Training data: an ImageFolder tree as torchvision's datasets.ImageFolder reads it (classes are
// the sorted sub-folder names; files with its extension list, walked in sorted order), either
// split into DIR/train and DIR/val or one DIR/<class> tree split by a seeded fraction; or MNIST /
// Fashion-MNIST IDX files (uncompressed). Samples are made into network inputs by make_batch:
// the validation transform (the model's preset) or the seed's augmentation (torchvision's
// RandomResizedCrop with scale (0.08, 1), ratio (3/4, 4/3) and its 10 tries + fallback, then
// RandomHorizontalFlip), each sample's randomness drawn from (seed, epoch, index) so a batch does
// not depend on the thread count. Leaves out: gzip-compressed IDX files (gunzip them first).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "image/input.h"

namespace cnnscope::dataset {

// One split: either image files or IDX pictures in memory.
struct Split {
  std::vector<std::string> paths;  // image files (ImageFolder); empty for IDX
  at::Tensor pictures;             // [N, H, W] uint8 (IDX); undefined for ImageFolder
  std::vector<int64_t> labels;     // class index per sample
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
};

struct Dataset {
  std::string root;
  std::string kind;                  // "imagefolder" | "idx"
  std::vector<std::string> classes;  // index -> name
  Split train;
  Split val;
};

struct DataOptions {
  double val_split = 0.1;  // used only for a DIR/<class> tree
  uint64_t seed = 0;
};

// Throws Error naming the folder/file: no classes, an empty class folder, a class of train
// missing from val (or the reverse), a bad IDX header, a val split that leaves either side empty.
Dataset load_dataset(const std::string& dir, const DataOptions& options);

// How training samples are made into network inputs.
struct AugmentOptions {
  bool random = false;  // false: the validation transform; true: RandomResizedCrop + flip
  int64_t size = 0;     // output side for RandomResizedCrop
  uint64_t seed = 0;
  int64_t epoch = 0;
};

// A batch ready for the network. Unreadable images are left out and named in `skipped`.
struct Batch {
  at::Tensor inputs;                 // [B, C, H, W] float32
  at::Tensor labels;                 // [B] int64
  std::vector<std::string> skipped;  // "path: why"
};

// Makes the samples `indices` of `split` (in parallel threads), transformed with `preprocess`
// (the validation transform; its normalization and channel count are used by augmentation too).
Batch make_batch(const Split& split, const std::vector<int64_t>& indices,
                 const PreprocessOptions& preprocess, const AugmentOptions& augment);

}  // namespace cnnscope::dataset
