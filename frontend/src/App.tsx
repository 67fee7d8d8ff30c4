import { useEffect, useState } from "react";
import { Home } from "./components/Home";
import { Editor } from "./components/Editor";
import { Toasts } from "./components/Toasts";
import { useLang } from "./i18n";

function parseRoute(hash: string): { page: "home" } | { page: "project"; id: number } {
  const m = /^#\/projects?\/(\d+)/.exec(hash);
  if (m) return { page: "project", id: Number(m[1]) };
  return { page: "home" };
}

export default function App() {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  const lang = useLang((s) => s.lang);
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  }, [lang]);
  return (
    <>
      {route.page === "project" ? <Editor key={route.id} projectId={route.id} /> : <Home />}
      <Toasts />
    </>
  );
}
