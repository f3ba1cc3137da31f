import { closeBrackets } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { bracketMatching } from "@codemirror/language";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, placeholder } from "@codemirror/view";
import { completionKeymap } from "@codemirror/autocomplete";
import { useEffect, useRef } from "preact/hooks";
import type { GraphInfo } from "../graph";
import { segmentCompletion, segmentHighlighting, segmentLanguage, toLintDiagnostics, type CompileDiagnostic } from "../editor/segmentLang";

interface Props {
  value: string;
  /** Bumped when `value` was set from outside the editor. */
  revision: number;
  diagnostics: CompileDiagnostic[];
  graph: GraphInfo | null;
  segmentNames: string[];
  onChange: (text: string) => void;
  labelId: string;
}

/** CodeMirror 6 on the segment language; diagnostics come from the caller's compileSegment. */
export function CodeEditor({ value, revision, diagnostics, graph, segmentNames, onChange, labelId }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const latest = useRef({ graph, segmentNames, onChange });
  latest.current = { graph, segmentNames, onChange };

  useEffect(() => {
    const editor = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          lineNumbers(),
          history(),
          bracketMatching(),
          closeBrackets(),
          segmentLanguage,
          segmentHighlighting,
          segmentCompletion(() => latest.current.graph, () => latest.current.segmentNames),
          lintGutter(),
          placeholder("segment Customer where city = \"Oslo\""),
          keymap.of([...completionKeymap, ...defaultKeymap, ...historyKeymap]),
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ "aria-labelledby": labelId, "aria-multiline": "true" }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) latest.current.onChange(update.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = editor;
    return () => editor.destroy();
  }, []);

  // Text set from outside (a loaded segment, the visual view) comes with a new revision. Typing
  // never writes `value` back: by the time it renders, newer keystrokes may be in the editor.
  useEffect(() => {
    const editor = view.current;
    if (editor && revision > 0 && editor.state.doc.toString() !== value) {
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value } });
    }
  }, [revision]);

  useEffect(() => {
    const editor = view.current;
    if (editor) editor.dispatch(setDiagnostics(editor.state, toLintDiagnostics(editor.state.doc, diagnostics)));
  }, [diagnostics]);

  return <div class="code-editor" ref={host} />;
}
