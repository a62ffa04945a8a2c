// The page of `cnnscope serve` (src/serve/page/: HTML, JS, CSS), compiled into the binary by
// cmake/EmbedFiles.cmake so that the server reads no file to serve it. Leaves out: compression.
#pragma once

#include <string_view>
#include <vector>

namespace cnnscope::serve {

struct EmbeddedFile {
  std::string_view name;   // the file's name: "index.html", "app.js", "style.css"
  std::string_view bytes;  // its contents
};

// Every file of src/serve/page/, in name order.
const std::vector<EmbeddedFile>& embedded_files();

}  // namespace cnnscope::serve
