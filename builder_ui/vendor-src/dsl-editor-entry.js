// The CodeMirror 6 pieces the list page's DSL editor (static/dsl_editor.js) uses, bundled once by
// vendor.sh with esbuild into static/vendor/codemirror/codemirror.min.js as window.TGCodeMirror.
export { EditorState, Compartment } from "@codemirror/state";
export { EditorView, keymap, placeholder, drawSelection, highlightSpecialChars } from "@codemirror/view";
export { StreamLanguage, HighlightStyle, syntaxHighlighting, defaultHighlightStyle, bracketMatching } from "@codemirror/language";
export { tags } from "@lezer/highlight";
export { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap, startCompletion } from "@codemirror/autocomplete";
export { linter, setDiagnostics, lintKeymap, forceLinting } from "@codemirror/lint";
export { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
