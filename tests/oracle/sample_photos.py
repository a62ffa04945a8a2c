"""Real sample photos that ship inside the oracle venv's packages (scripts/oracle-requirements.txt):
matplotlib's sample data (grace_hopper.jpg) and scikit-image's data folder (astronaut.png,
chelsea.png, rocket.jpg, ...). Found through importlib without importing either package; a photo
whose package is missing is simply absent (callers decide whether that is an error).
"""
import glob
import importlib.util
import os


def _package_dir(name):
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def photo_dirs():
    """The folders that hold sample photos, in the order grace_hopper.jpg, then scikit-image's."""
    dirs = []
    mpl, ski = _package_dir("matplotlib"), _package_dir("skimage")
    if mpl:
        dirs.append(os.path.join(mpl, "mpl-data", "sample_data"))
    if ski:
        dirs.append(os.path.join(ski, "data"))
    return dirs


def photos(*names):
    """Paths of the named photos that exist, in the order given."""
    found = []
    for name in names:
        for d in photo_dirs():
            path = os.path.join(d, name)
            if os.path.exists(path):
                found.append(path)
                break
    return found


def all_photos():
    """grace_hopper.jpg and every JPEG/PNG of scikit-image's data folder, sorted by name."""
    found = photos("grace_hopper.jpg")
    for d in photo_dirs()[1:]:
        found += sorted(glob.glob(os.path.join(d, "*.jpg")) + glob.glob(os.path.join(d, "*.png")))
    return found
