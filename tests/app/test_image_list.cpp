// app/image_list.h: folder expansion in name order, output folders that never collide, and where
// `preprocess -o` writes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "app/image_list.h"
#include "common/error.h"

namespace cnnscope::app {
namespace {

namespace fs = std::filesystem;

TEST(ImageList, InputFilesByExtension) {
  EXPECT_TRUE(is_input_file("a/b.JPG"));
  EXPECT_TRUE(is_input_file("x.jpeg"));
  EXPECT_TRUE(is_input_file("x.png"));
  EXPECT_TRUE(is_input_file("x.npy"));
  for (const char* name : {"x.bmp", "x.GIF", "x.webp", "x.tif", "x.TIFF"})
    EXPECT_TRUE(is_input_file(name)) << name;
  EXPECT_FALSE(is_input_file("x.tifff"));
  EXPECT_FALSE(is_input_file("x.txt"));
  EXPECT_FALSE(is_input_file("png"));
}

TEST(ImageList, BatchesSplitWhereTheShapeChanges) {
  using Ranges = std::vector<std::pair<size_t, size_t>>;
  const std::vector<int64_t> a{3, 28, 28}, b{3, 40, 40};
  EXPECT_EQ(same_shape_batches({}), Ranges{});
  EXPECT_EQ(same_shape_batches({a, a, b, b, b, a}), (Ranges{{0, 2}, {2, 5}, {5, 6}}));
  EXPECT_EQ(same_shape_batches({{1, 2, 2}, {3, 2, 2}}), (Ranges{{0, 1}, {1, 2}}));  // channels
}

TEST(ImageList, EachBatchIsOneShapeAndAtMostTheChunk) {
  const std::vector<int64_t> sides{28, 28, 28, 40, 40, 28, 28};
  std::vector<std::pair<size_t, std::vector<int64_t>>> seen;  // first index, sides
  for_each_batch(
      sides.size(), 2, [&](size_t i) { return sides[i]; },
      [](int64_t side) {
        return std::vector<int64_t>{1, side, side};
      },
      [&](size_t first, std::vector<int64_t> batch) { seen.emplace_back(first, batch); });
  const std::vector<std::pair<size_t, std::vector<int64_t>>> want{
      {0, {28, 28}}, {2, {28}}, {3, {40}}, {4, {40}}, {5, {28}}, {6, {28}}};
  EXPECT_EQ(seen, want);
}

TEST(ImageList, FoldersExpandInNameOrder) {
  const fs::path dir = fs::temp_directory_path() / "cnnscope_image_list";
  fs::remove_all(dir);
  fs::create_directories(dir / "sub");
  for (const char* name : {"b.png", "a.JPG", "c.txt", "sub/d.png"})
    std::ofstream(dir / name) << "x";
  const std::vector<std::string> files = expand_images({"given.png", dir.string()});
  EXPECT_EQ(files, (std::vector<std::string>{"given.png", (dir / "a.JPG").string(),
                                             (dir / "b.png").string()}));
  fs::remove_all(dir / "sub");
  fs::remove(dir / "a.JPG");
  fs::remove(dir / "b.png");
  EXPECT_THROW(expand_images({dir.string()}), Error);  // only c.txt left
  fs::remove_all(dir);
}

TEST(ImageList, OneImageWritesIntoOutSeveralIntoStems) {
  const std::vector<ImageJob> one = plan_image_jobs({"x/roses.jpg"}, "out");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].out_dir, "out");
  EXPECT_EQ(one[0].name, "roses.jpg");
  const std::vector<ImageJob> many =
      plan_image_jobs({"a/roses.jpg", "b/roses.png", "tulip.png", "c/roses.npy"}, "out");
  std::vector<std::string> dirs;
  for (const ImageJob& j : many) dirs.push_back(j.out_dir);
  EXPECT_EQ(dirs,
            (std::vector<std::string>{"out/roses", "out/roses-2", "out/tulip", "out/roses-3"}));
}

TEST(ImageList, NpyOutputs) {
  const NpyPlan single = plan_npy_outputs({"a.jpg"}, "x.npy");
  EXPECT_EQ(single.dir, "");
  EXPECT_EQ(single.files, (std::vector<std::string>{"x.npy"}));
  const NpyPlan folder = plan_npy_outputs({"a.jpg", "b/c.png"}, "tensors");
  EXPECT_EQ(folder.dir, "tensors");
  EXPECT_EQ(folder.files, (std::vector<std::string>{"tensors/a.npy", "tensors/c.npy"}));
  EXPECT_THROW(plan_npy_outputs({"a.jpg", "b.jpg"}, "x.npy"), Error);
  EXPECT_THROW(plan_npy_outputs({"a.jpg", "b/a.png"}, "tensors"), Error);
}

}  // namespace
}  // namespace cnnscope::app
