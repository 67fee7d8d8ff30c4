// The editor's server state through TanStack Query: one place for the query keys, the reads
// (useQuery) and the writes (useMutation), which keep the cache true after they succeed.
import {
  QueryCache, QueryClient, useMutation, useQueries, useQuery, useQueryClient,
} from "@tanstack/react-query";
import { api } from "../api";
import { useUi } from "../store/ui";
import type { Graph, Project, TemplateInfo, VersionInfo } from "../types";

declare module "@tanstack/react-query" {
  interface Register {
    queryMeta: { toastOnError?: boolean };
  }
}

export const queryKeys = {
  catalog: ["catalog"] as const,
  templates: ["templates"] as const,
  template: (id: string) => ["templates", id] as const,
  projects: ["projects"] as const,
  project: (id: number) => ["project", id] as const,
  versions: (projectId: number) => ["project", projectId, "versions"] as const,
  version: (projectId: number, version: number) => ["project", projectId, "versions", version] as const,
  // The editor's graph changes revision on every edit; each revision is validated once.
  validation: (revision: number) => ["validation", revision] as const,
  validations: ["validation"] as const, // every revision's (what the cache holds changed)
  weights: ["weights"] as const,
  datasets: ["datasets"] as const,
  cache: ["cache"] as const,
  artifacts: (runId: string) => ["run", runId, "artifacts"] as const,
};

export function createQueryClient(): QueryClient {
  return new QueryClient({
    // Queries that ask for it report their failure as a toast; the others show it in place.
    queryCache: new QueryCache({
      onError: (error, query) => {
        if (query.meta?.toastOnError) useUi.getState().toast(error.message, "error");
      },
    }),
    // A failed request is shown at once, as the server's error says what is wrong.
    defaultOptions: { queries: { retry: false } },
  });
}

// -- reads --------------------------------------------------------------------------------

/** The component catalog: it changes only when the server restarts with other components. */
export const useCatalog = () =>
  useQuery({ queryKey: queryKeys.catalog, queryFn: api.components, staleTime: Infinity });

export const useTemplates = () =>
  useQuery({ queryKey: queryKeys.templates, queryFn: api.templates, staleTime: Infinity, meta: { toastOnError: true } });

/** Each template's graph by template id, as they arrive (for the previews). */
export function useTemplateGraphs(templates: TemplateInfo[] | undefined): Record<string, Graph> {
  return useQueries({
    queries: (templates ?? []).map((template) => ({
      queryKey: queryKeys.template(template.id),
      queryFn: () => api.template(template.id),
      staleTime: Infinity,
    })),
    combine: (results) =>
      Object.fromEntries(results.flatMap((r) => (r.data ? [[r.data.id, r.data.graph] as const] : []))),
  });
}

const newestFirst = (projects: Project[]) =>
  [...projects].sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)));

export const useProjects = () =>
  useQuery({ queryKey: queryKeys.projects, queryFn: api.projects, select: newestFirst, meta: { toastOnError: true } });

/**
 * The project as opened. The editor holds the live graph from then on, so this is read once
 * per opening (no refetch) and forgotten when the editor closes.
 */
export const useProject = (projectId: number) =>
  useQuery({
    queryKey: queryKeys.project(projectId),
    queryFn: () => api.project(projectId),
    staleTime: Infinity,
    gcTime: 0,
  });

const latestFirst = (versions: VersionInfo[]) => [...versions].sort((a, b) => b.version - a.version);

export const useVersions = (projectId: number) =>
  useQuery({ queryKey: queryKeys.versions(projectId), queryFn: () => api.versions(projectId), select: latestFirst });

/** One saved version with its graph; none while `version` is null. Only the newest version changes (a rapid
 * save replaces it), and every save invalidates the versions' queries (`useNewVersion`). */
export const useVersion = (projectId: number, version: number | null) =>
  useQuery({
    queryKey: queryKeys.version(projectId, version ?? -1),
    queryFn: () => api.version(projectId, version ?? -1),
    enabled: version !== null,
    staleTime: Infinity,
  });

/** The validation of the graph at one revision; none while `enabled` is false. */
export const useValidation = (revision: number, graph: Graph, enabled: boolean) =>
  useQuery({
    queryKey: queryKeys.validation(revision),
    queryFn: () => api.validate(graph),
    enabled,
    staleTime: Infinity,
    meta: { toastOnError: true },
  });

/** The weights catalog; polled every half second while the server downloads one of them. */
export const useWeights = () =>
  useQuery({
    queryKey: queryKeys.weights,
    queryFn: api.weights,
    refetchInterval: (query) => (query.state.data?.some((w) => w.download.state === "running") ? 500 : false),
  });

/** The datasets uploaded to the data roots (the image-folder dataset's picker). */
export const useDatasets = () => useQuery({ queryKey: queryKeys.datasets, queryFn: api.datasets });

/** A run's files, each saying whether it is still on disk (the Model tab's cards). */
export const useRunArtifacts = (runId: string) =>
  useQuery({ queryKey: queryKeys.artifacts(runId), queryFn: () => api.artifacts(runId) });

/** The result store's size against its budget (the start page's cache section). */
export const useCache = () => useQuery({ queryKey: queryKeys.cache, queryFn: api.cache, meta: { toastOnError: true } });

/** A dataset was uploaded: the picker's list and the validation of a root naming it change. */
export function useDatasetArrived() {
  const queryClient = useQueryClient();
  return () => {
    void queryClient.invalidateQueries({ queryKey: queryKeys.datasets });
    void queryClient.invalidateQueries({ queryKey: queryKeys.validations });
  };
}

// -- writes -------------------------------------------------------------------------------

export function useCreateProject() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ name, template, graph }: { name: string; template: string | null; graph: Graph | null }) =>
      api.createProject(name, template, graph),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.projects }),
  });
}

/** A project from a dropped model file (the graph that made it). */
export function useProjectFromModel() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (file: File) => api.projectFromModel(file),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.projects }),
  });
}

export function useRenameProject() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, name }: { id: number; name: string }) => api.renameProject(id, name),
    onSuccess: (renamed) => {
      queryClient.setQueryData(queryKeys.project(renamed.id), (open?: Project) => open && { ...open, name: renamed.name });
      return queryClient.invalidateQueries({ queryKey: queryKeys.projects });
    },
  });
}

export function useDeleteProject() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api.deleteProject(id),
    onSuccess: (_, id) => {
      queryClient.removeQueries({ queryKey: queryKeys.project(id) });
      return queryClient.invalidateQueries({ queryKey: queryKeys.projects });
    },
  });
}

/** A saved or restored graph is the project's newest version: the open project, its list entry and versions follow. */
function useNewVersion(projectId: number) {
  const queryClient = useQueryClient();
  return (version: number, graph: Graph) => {
    queryClient.setQueryData(queryKeys.project(projectId), (open?: Project) => open && { ...open, version, graph });
    void queryClient.invalidateQueries({ queryKey: queryKeys.projects });
    void queryClient.invalidateQueries({ queryKey: queryKeys.versions(projectId) });
  };
}

export function useSaveGraph(projectId: number) {
  const newVersion = useNewVersion(projectId);
  return useMutation({
    mutationFn: (graph: Graph) => api.saveGraph(projectId, graph),
    onSuccess: (saved, graph) => newVersion(saved.version, graph),
  });
}

/** Restore an earlier version as the newest one; answers the new version number and its graph. */
export function useRestoreVersion(projectId: number) {
  const queryClient = useQueryClient();
  const newVersion = useNewVersion(projectId);
  return useMutation({
    mutationFn: async (version: number) => {
      const restored = await api.restoreVersion(projectId, version);
      // The new version holds the earlier one's graph, which the dialog's preview has already read.
      const earlier = await queryClient.fetchQuery({
        queryKey: queryKeys.version(projectId, version),
        queryFn: () => api.version(projectId, version),
        staleTime: Infinity,
      });
      return { version: restored.version, graph: earlier.graph };
    },
    onSuccess: (restored) => newVersion(restored.version, restored.graph),
  });
}

/** A weight file arrived: validation (weights_missing) and the gallery's download sizes change. */
export function useWeightsArrived() {
  const queryClient = useQueryClient();
  return () => {
    void queryClient.invalidateQueries({ queryKey: queryKeys.weights });
    void queryClient.invalidateQueries({ queryKey: queryKeys.validations });
    void queryClient.invalidateQueries({ queryKey: queryKeys.templates, exact: true });
  };
}

/** Start the server's download of a weight file; its progress shows through ``useWeights``. */
export function useFetchWeights() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api.fetchWeights(name),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.weights }),
  });
}

/** Upload a weight file downloaded by hand (verified by the server). */
export function useUploadWeights() {
  const arrived = useWeightsArrived();
  return useMutation({
    mutationFn: ({ name, file }: { name: string; file: File }) => api.uploadWeights(name, file),
    onSuccess: arrived,
  });
}

/** Free up space: the store's size changes, and so does what a validation finds cached. */
export function usePruneCache() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: Parameters<typeof api.pruneCache>[0]) => api.pruneCache(body),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.validations });
      void queryClient.invalidateQueries({ queryKey: ["run"] }); // which model files are still there
      return queryClient.invalidateQueries({ queryKey: queryKeys.cache });
    },
  });
}
