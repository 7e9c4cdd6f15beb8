// Every figure of a page opens full size: a click on an output image or a figure's image
// shows the image alone, at its own size (on a phone, to zoom in on a diagram).
document.addEventListener("DOMContentLoaded", () => {
  for (const image of document.querySelectorAll(".bd-article .cell_output img, .bd-article figure img")) {
    if (image.closest("a")) continue;
    const link = document.createElement("a");
    link.href = image.getAttribute("src");
    link.className = "course-full-size";
    link.title = "Open the figure full size";
    image.replaceWith(link);
    link.appendChild(image);
  }
});
