"""Real PDFs for the stub arXiv, typeset with reportlab and read back by our pypdf extractor."""
from __future__ import annotations

import io

from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer


def make_pdf(title: str, sections: list[tuple[str, str]], references: list[str]) -> bytes:
    styles = getSampleStyleSheet()
    story = [Paragraph(title, styles["Title"]), Spacer(1, 12)]
    for heading, text in sections:
        story += [Paragraph(heading, styles["Heading2"]), Paragraph(text, styles["BodyText"]), Spacer(1, 6)]
    story.append(Paragraph("References", styles["Heading2"]))
    story += [Paragraph(r, styles["BodyText"]) for r in references]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=letter, title=title).build(story)
    return out.getvalue()


def sonic_pdf(abstract: str) -> bytes:
    """A short but real paper body for 2601.19884v1 (SONIC)."""
    method = ("SONIC parameterises each convolutional operator in the Fourier domain with a small set of "
              "shared, orientation-selective components. Each component is a smooth function of frequency "
              "magnitude and direction, so the resulting filter has a global receptive field. The layer "
              "multiplies the spectrum of the input by the learned response and transforms it back. ") * 3
    experiments = ("On ImageNet-1k the SONIC network reaches 78.4 percent top-1 accuracy with 3.1 million "
                   "parameters. Under a resolution shift from 224 to 160 pixels the accuracy drops by only "
                   "1.2 points, compared with 6.8 points for a ResNet-50 baseline. On the 3D medical "
                   "segmentation benchmark the Dice score improves from 0.81 to 0.84. ") * 2
    return make_pdf(
        "SONIC: Spectral Oriented Neural Invariant Convolutions",
        [("Abstract", abstract), ("1 Introduction", method[:600]), ("3 Method", method),
         ("4 Experiments", experiments), ("5 Conclusion", "Spectral parameterisations are a scalable alternative.")],
        ["[1] K. He et al. Deep residual learning for image recognition. CVPR 2016.",
         "[2] A. Dosovitskiy et al. An image is worth 16x16 words. ICLR 2021."],
    )
